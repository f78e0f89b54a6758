// Kernels over repacked weights (kernels/repack.h): 8 rows x T tokens per call, T <= 4,
// activations as Q8_0 blocks whose quants were offset to unsigned (x ^ 0x80).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket::kernels::vnni {

// y[t * y_stride + r] for r < 8, t < n_tok; `group` points at the first block of the 8-row group.
void packed_q8_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, int n_tok, float* y,
                     int64_t y_stride);
void packed_q4_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, int n_tok, float* y,
                     int64_t y_stride);

}  // namespace pocket::kernels::vnni
