// The scalar reference level: every weight type's product and every float op, the oracle the
// other levels are tested against. Optional entries stay null (generic driver paths).
#include <cstring>

#include "kernels/isa_levels.h"
#include "kernels/ref/dot_ref.h"
#include "quant/kquants.h"
#include "quant/legacy.h"

namespace pocket::kernels {

namespace {
void copy_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
}  // namespace

void fill_ref(KernelTable& t) {
  t.isa = Isa::Ref;
  auto set = [&](DType w, DType a, VecDotFn d, QuantizeActFn q) { t.types[static_cast<int>(w)] = {a, d, q, nullptr}; };
  set(DType::F32, DType::F32, ref::vec_dot_f32_f32, copy_f32);
  set(DType::F16, DType::F32, ref::vec_dot_f16_f32, copy_f32);
  set(DType::BF16, DType::F32, ref::vec_dot_bf16_f32, copy_f32);
  set(DType::Q8_0, DType::Q8_0, ref::vec_dot_q8_0_q8_0, quant::quantize_row_q8_0);
  set(DType::Q4_0, DType::Q8_0, ref::vec_dot_q4_0_q8_0, quant::quantize_row_q8_0);
  set(DType::Q4_1, DType::Q8_1, ref::vec_dot_q4_1_q8_1, quant::quantize_row_q8_1);
  set(DType::Q5_0, DType::Q8_0, ref::vec_dot_q5_0_q8_0, quant::quantize_row_q8_0);
  set(DType::Q5_1, DType::Q8_1, ref::vec_dot_q5_1_q8_1, quant::quantize_row_q8_1);
  set(DType::Q2_K, DType::Q8_K, ref::vec_dot_q2_k_q8_k, quant::quantize_row_q8_k);
  set(DType::Q3_K, DType::Q8_K, ref::vec_dot_q3_k_q8_k, quant::quantize_row_q8_k);
  set(DType::Q4_K, DType::Q8_K, ref::vec_dot_q4_k_q8_k, quant::quantize_row_q8_k);
  set(DType::Q5_K, DType::Q8_K, ref::vec_dot_q5_k_q8_k, quant::quantize_row_q8_k);
  set(DType::Q6_K, DType::Q8_K, ref::vec_dot_q6_k_q8_k, quant::quantize_row_q8_k);
  t.ops = ref::kOps;
}

}  // namespace pocket::kernels
