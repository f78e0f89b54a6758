// Kernels over repacked weights (kernels/repack.h): 8 rows x T tokens per call, T <= 4,
// activations as plain Q8_0 rows plus, per token, the sum of each block's quants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket::kernels::vnni {

// y[t * y_stride + r] for r < 8, t < n_tok; `group` points at the first block of the 8-row group;
// token t's activation row is act + t * act_stride and its block sums asum + t * nb.
void packed_q8_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q4_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);

// The same for 16 rows: two consecutive 8-row groups (`groups` points at the first; the
// second follows its nb blocks), y[t * y_stride + r] for r < 16. Bit-identical per row to two
// 8xT calls.
void packed_q8_0_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride);
void packed_q4_0_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride);

// Sums of the quants of each of the nb blocks of one Q8_0 row.
void q8_0_block_sums(const uint8_t* row, int64_t nb, int32_t* out);

}  // namespace pocket::kernels::vnni
