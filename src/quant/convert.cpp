// Scalar (de)quantization dispatch by type (kept apart from the type table so that code
// needing only sizes, like the GGUF reader, does not link every format).
#include <cstring>

#include "core/error.h"
#include "quant/kquants.h"
#include "quant/legacy.h"
#include "quant/types.h"

namespace pocket {

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  using namespace quant;
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: dequantize_row_f16(src, dst, n); return;
    case DType::BF16: dequantize_row_bf16(src, dst, n); return;
    case DType::Q8_0: dequantize_row_q8_0(src, dst, n); return;
    case DType::Q8_1: dequantize_row_q8_1(src, dst, n); return;
    case DType::Q4_0: dequantize_row_q4_0(src, dst, n); return;
    case DType::Q4_1: dequantize_row_q4_1(src, dst, n); return;
    case DType::Q5_0: dequantize_row_q5_0(src, dst, n); return;
    case DType::Q5_1: dequantize_row_q5_1(src, dst, n); return;
    case DType::Q2_K: dequantize_row_q2_k(src, dst, n); return;
    case DType::Q3_K: dequantize_row_q3_k(src, dst, n); return;
    case DType::Q4_K: dequantize_row_q4_k(src, dst, n); return;
    case DType::Q5_K: dequantize_row_q5_k(src, dst, n); return;
    case DType::Q6_K: dequantize_row_q6_k(src, dst, n); return;
    case DType::Q8_K: dequantize_row_q8_k(src, dst, n); return;
    default: fail("cannot dequantize type {}", dtype_name(t));
  }
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  using namespace quant;
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: quantize_row_f16(src, dst, n); return;
    case DType::BF16: quantize_row_bf16(src, dst, n); return;
    case DType::Q8_0: quantize_row_q8_0(src, dst, n); return;
    case DType::Q8_1: quantize_row_q8_1(src, dst, n); return;
    case DType::Q4_0: quantize_row_q4_0(src, dst, n); return;
    case DType::Q4_1: quantize_row_q4_1(src, dst, n); return;
    case DType::Q5_0: quantize_row_q5_0(src, dst, n); return;
    case DType::Q5_1: quantize_row_q5_1(src, dst, n); return;
    case DType::Q2_K: quantize_row_q2_k(src, dst, n); return;
    case DType::Q3_K: quantize_row_q3_k(src, dst, n); return;
    case DType::Q4_K: quantize_row_q4_k(src, dst, n); return;
    case DType::Q5_K: quantize_row_q5_k(src, dst, n); return;
    case DType::Q6_K: quantize_row_q6_k(src, dst, n); return;
    case DType::Q8_K: quantize_row_q8_k(src, dst, n); return;
    default: fail("cannot quantize to type {}", dtype_name(t));
  }
}

}  // namespace pocket
