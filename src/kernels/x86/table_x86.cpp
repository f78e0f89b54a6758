// The x86-64 levels' tables. Compiled without ISA flags: it only takes the addresses of the
// kernels, which dispatch calls once cpuid has shown the level's instructions.
#include "core/cpu.h"
#include "kernels/isa_levels.h"
#include "kernels/x86/attention_tile_avx2.h"
#include "kernels/x86/dot_avx2.h"
#include "kernels/x86/gemm_avx2.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "kernels/x86/gemm_packed_vnni.h"
#include "kernels/x86/gemm_vnni.h"
#include "kernels/x86/vision_x86.h"

namespace pocket::kernels {

// AVX2 + FMA + F16C + BMI2: every product, the float ops, the prefill attention tiles and the
// vision GEMM / attention micro-kernels, repacked Q8_0 and Q2_K..Q6_K (8-row tiles).
void fill_avx2(KernelTable& t) {
  set_product(t, DType::F32, avx2::vec_dot_f32_f32, nullptr, avx2::gemm_f32_f32_2x4);
  set_product(t, DType::F16, avx2::vec_dot_f16_f32, nullptr, avx2::gemm_f16_f32_2x4);
  set_product(t, DType::BF16, avx2::vec_dot_bf16_f32, nullptr, avx2::gemm_bf16_f32_2x4);
  set_product(t, DType::Q8_0, avx2::vec_dot_q8_0_q8_0, avx2::quantize_row_q8_0, avx2::gemm_q8_0_q8_0_2x4);
  set_product(t, DType::Q4_0, avx2::vec_dot_q4_0_q8_0, avx2::quantize_row_q8_0, avx2::gemm_q4_0_q8_0_2x4);
  set_product(t, DType::Q4_1, avx2::vec_dot_q4_1_q8_1, avx2::quantize_row_q8_1);
  set_product(t, DType::Q5_0, avx2::vec_dot_q5_0_q8_0, avx2::quantize_row_q8_0);
  set_product(t, DType::Q5_1, avx2::vec_dot_q5_1_q8_1, avx2::quantize_row_q8_1);
  set_product(t, DType::Q2_K, avx2::vec_dot_q2_k_q8_k, avx2::quantize_row_q8_k);
  set_product(t, DType::Q3_K, avx2::vec_dot_q3_k_q8_k, avx2::quantize_row_q8_k);
  set_product(t, DType::Q4_K, avx2::vec_dot_q4_k_q8_k, avx2::quantize_row_q8_k, avx2::gemm_q4_k_q8_k_2x4);
  set_product(t, DType::Q5_K, avx2::vec_dot_q5_k_q8_k, avx2::quantize_row_q8_k);
  set_product(t, DType::Q6_K, avx2::vec_dot_q6_k_q8_k, avx2::quantize_row_q8_k, avx2::gemm_q6_k_q8_k_2x4);
  t.ops = avx2::kOps;
  t.f16_to_f32 = avx2::f16_to_f32;
  t.attn_scores = avx2::attn_scores;
  t.attn_values = avx2::attn_values;
  t.gemm_f32_tile = avx2::gemm_f32_tile;
  t.gemm_f32_pack = avx2::gemm_f32_pack;
  t.attn_tile_gemm = avx2::attn_tile_gemm;
  t.packed_k = avx2::kPackedKQuantTiles;
  t.packed_q8_0_8 = avx2::packed_q8_0_8xT;
}

// AVX-VNNI on top (Intel client cores from Alder Lake, AMD Zen 5: 256-bit vpdpbusd without
// AVX-512): the repacked K-quant tiles with vpdpbusd.
void fill_avxvnni(KernelTable& t) {
  t.packed_k = avxvnni::kPackedKQuantTiles;
}

// AVX512-VNNI on top of AVX2: int8 tiles for Q8_0/Q4_0, repacked weights (Q8_0/Q4_0; vpdpbusd and 16-row
// tiles for Q2_K..Q6_K), the vision GEMM's int8 path.
void fill_avx512vnni(KernelTable& t) {
  t.types[static_cast<int>(DType::Q8_0)].gemm_tile = vnni::gemm_q8_0_q8_0_2x4;
  t.types[static_cast<int>(DType::Q4_0)].gemm_tile = vnni::gemm_q4_0_q8_0_2x4;
  t.packed_q8_0_8 = vnni::packed_q8_0_8xT;
  t.packed_q4_0_8 = vnni::packed_q4_0_8xT;
  t.packed_q8_0_16 = vnni::packed_q8_0_16xT;
  t.packed_q4_0_16 = vnni::packed_q4_0_16xT;
  t.q8_0_block_sums = vnni::q8_0_block_sums;
  t.q8_pack = vnni::q8_pack;
  t.q8_split_act = vnni::q8_split_act;
  t.q8_tile = vnni::q8_tile;
  t.packed_k = vnni::kPackedKQuantTiles;
  // AVX512-BF16 comes with AVX512-VNNI on every CPU that has it (Cooper Lake, Sapphire Rapids,
  // Zen 4): not a level of its own; the entries are there when the CPU has it.
  if (cpu_features().avx512bf16) {
    t.bf16_tile = bf16x::gemm_bf16_tile;
    t.bf16_pack = bf16x::gemm_bf16_pack;
    t.bf16_act = bf16x::gemm_bf16_act;
    t.attn_bf16_tiles = bf16x::attn_bf16_tiles;
    t.attn_bf16_softmax = bf16x::attn_bf16_softmax;
  }
}

}  // namespace pocket::kernels
