// Dispatch tables for the row dot products.
#include "kernels/dot.h"

#include <atomic>
#include <cstring>

#include "core/cpu.h"
#include "core/error.h"
#include "kernels/ref/dot_ref.h"
#include "kernels/x86/dot_avx2.h"
#include "kernels/x86/gemm_avx2.h"
#include "kernels/x86/gemm_vnni.h"
#include "quant/kquants.h"
#include "quant/legacy.h"

namespace pocket::kernels {

namespace {

void copy_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

constexpr int kMaxType = 31;

struct Table {
  TypeKernels k[kMaxType];
};

Table make_ref() {
  Table t;
  auto set = [&](DType w, DType a, VecDotFn d, QuantizeActFn q) { t.k[static_cast<int>(w)] = {a, d, q}; };
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
  return t;
}

Table make_simd() {
  Table t = make_ref();
  const CpuFeatures& cpu = cpu_features();
  if (!(cpu.avx2 && cpu.fma && cpu.f16c)) return t;
  auto set = [&](DType w, DType a, VecDotFn d, QuantizeActFn q) { t.k[static_cast<int>(w)] = {a, d, q}; };
  set(DType::F32, DType::F32, avx2::vec_dot_f32_f32, copy_f32);
  set(DType::F16, DType::F32, avx2::vec_dot_f16_f32, copy_f32);
  set(DType::BF16, DType::F32, avx2::vec_dot_bf16_f32, copy_f32);
  set(DType::Q8_0, DType::Q8_0, avx2::vec_dot_q8_0_q8_0, avx2::quantize_row_q8_0);
  set(DType::Q4_0, DType::Q8_0, avx2::vec_dot_q4_0_q8_0, avx2::quantize_row_q8_0);
  set(DType::Q4_1, DType::Q8_1, avx2::vec_dot_q4_1_q8_1, avx2::quantize_row_q8_1);
  set(DType::Q5_0, DType::Q8_0, avx2::vec_dot_q5_0_q8_0, avx2::quantize_row_q8_0);
  set(DType::Q5_1, DType::Q8_1, avx2::vec_dot_q5_1_q8_1, avx2::quantize_row_q8_1);
  set(DType::Q2_K, DType::Q8_K, avx2::vec_dot_q2_k_q8_k, avx2::quantize_row_q8_k);
  set(DType::Q3_K, DType::Q8_K, avx2::vec_dot_q3_k_q8_k, avx2::quantize_row_q8_k);
  set(DType::Q4_K, DType::Q8_K, avx2::vec_dot_q4_k_q8_k, avx2::quantize_row_q8_k);
  set(DType::Q5_K, DType::Q8_K, avx2::vec_dot_q5_k_q8_k, avx2::quantize_row_q8_k);
  set(DType::Q6_K, DType::Q8_K, avx2::vec_dot_q6_k_q8_k, avx2::quantize_row_q8_k);
  t.k[static_cast<int>(DType::Q8_0)].gemm_tile = avx2::gemm_q8_0_q8_0_2x4;
  t.k[static_cast<int>(DType::Q4_0)].gemm_tile = avx2::gemm_q4_0_q8_0_2x4;
  t.k[static_cast<int>(DType::Q4_K)].gemm_tile = avx2::gemm_q4_k_q8_k_2x4;
  t.k[static_cast<int>(DType::Q6_K)].gemm_tile = avx2::gemm_q6_k_q8_k_2x4;
  if (cpu.avx512vnni && cpu.avx512vl && cpu.avx512bw) {
    t.k[static_cast<int>(DType::Q8_0)].gemm_tile = vnni::gemm_q8_0_q8_0_2x4;
    t.k[static_cast<int>(DType::Q4_0)].gemm_tile = vnni::gemm_q4_0_q8_0_2x4;
  }
  t.k[static_cast<int>(DType::F32)].gemm_tile = avx2::gemm_f32_f32_2x4;
  t.k[static_cast<int>(DType::F16)].gemm_tile = avx2::gemm_f16_f32_2x4;
  t.k[static_cast<int>(DType::BF16)].gemm_tile = avx2::gemm_bf16_f32_2x4;
  return t;
}

const Table& ref_table() {
  static const Table t = make_ref();
  return t;
}
const Table& simd_table() {
  static const Table t = make_simd();
  return t;
}

std::atomic<bool> g_use_ref{false};

const TypeKernels& lookup(const Table& t, DType w) {
  const int i = static_cast<int>(w);
  if (i < 0 || i >= kMaxType || !t.k[i].vec_dot) fail("no matrix kernel for weight type {}", dtype_name(w));
  return t.k[i];
}

}  // namespace

const TypeKernels& type_kernels(DType w) { return lookup(g_use_ref.load(std::memory_order_relaxed) ? ref_table() : simd_table(), w); }
const TypeKernels& type_kernels_ref(DType w) { return lookup(ref_table(), w); }
const TypeKernels& type_kernels_simd(DType w) { return lookup(simd_table(), w); }

void use_reference_kernels(bool on) { g_use_ref.store(on); }
bool using_reference_kernels() { return g_use_ref.load(); }

const char* dispatch_name() {
  if (g_use_ref.load()) return "ref";
  const CpuFeatures& cpu = cpu_features();
  if (!(cpu.avx2 && cpu.fma && cpu.f16c)) return "ref";
  return (cpu.avx512vnni && cpu.avx512vl && cpu.avx512bw) ? "avx2+avx512vnni" : "avx2";
}

}  // namespace pocket::kernels
