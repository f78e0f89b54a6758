// The AArch64 levels' tables. Compiled without extension flags: it only takes the addresses of
// the kernels, which dispatch calls once the CPU has reported the level's instructions.
#include "kernels/arm/arm_kernels.h"
#include "kernels/isa_levels.h"

namespace pocket::kernels {

// Advanced SIMD: float ops, float and quantized row products (widening int8 multiplies), the
// vision GEMM and attention micro-kernels. Activation quantizers stay the reference's.
void fill_neon(KernelTable& t) {
  set_product(t, DType::F32, neon::vec_dot_f32_f32);
  set_product(t, DType::F16, neon::vec_dot_f16_f32);
  set_product(t, DType::BF16, neon::vec_dot_bf16_f32);
  set_product(t, DType::Q8_0, neon::vec_dot_q8_0_q8_0);
  set_product(t, DType::Q4_0, neon::vec_dot_q4_0_q8_0);
  set_product(t, DType::Q4_K, neon::vec_dot_q4_k_q8_k);
  set_product(t, DType::Q5_K, neon::vec_dot_q5_k_q8_k);
  set_product(t, DType::Q6_K, neon::vec_dot_q6_k_q8_k);
  const auto gelu_erf = t.ops.gelu_erf;
  t.ops = neon::kOps;
  t.ops.gelu_erf = gelu_erf;
  t.gemm_f32_tile = neon::gemm_f32_tile;
  t.attn_tile_gemm = neon::attn_tile_gemm;
}

// DotProd on top: the quantized products with SDOT.
void fill_dotprod(KernelTable& t) {
  set_product(t, DType::Q8_0, dotprod::vec_dot_q8_0_q8_0);
  set_product(t, DType::Q4_0, dotprod::vec_dot_q4_0_q8_0);
  set_product(t, DType::Q4_K, dotprod::vec_dot_q4_k_q8_k);
  set_product(t, DType::Q5_K, dotprod::vec_dot_q5_k_q8_k);
  set_product(t, DType::Q6_K, dotprod::vec_dot_q6_k_q8_k);
}

// I8MM on top: 2x4 SMMLA tiles for Q8_0 and Q4_0 (prefill and batched decode).
void fill_i8mm(KernelTable& t) {
  t.types[static_cast<int>(DType::Q8_0)].gemm_tile = i8mm::gemm_q8_0_q8_0_2x4;
  t.types[static_cast<int>(DType::Q4_0)].gemm_tile = i8mm::gemm_q4_0_q8_0_2x4;
}

}  // namespace pocket::kernels
