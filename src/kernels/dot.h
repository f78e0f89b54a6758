// Row dot products between a weight row (any supported DType) and an activation row that
// was first converted to the weight type's activation format (Q8_0, Q8_1, Q8_K or F32),
// as llama.cpp does (ref: ggml/src/ggml-cpu/ggml-cpu.c type_traits_cpu vec_dot_type).
// The table is chosen once from the CPU's features; use_reference_kernels(true) swaps in
// the scalar oracle (`--ref-kernels`).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace pocket::kernels {

// Returns sum_i w[i] * x[i] over n elements (n a multiple of the block size).
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
// Converts a float row to the activation format.
using QuantizeActFn = void (*)(const float* src, void* dst, int64_t n);

// Tile of a matrix product: y[t * y_stride + r] = dot(weight row r, activation row t) for
// r < kGemmRows, t < kGemmTokens (weights and activations as for VecDotFn).
constexpr int kGemmRows = 2;
constexpr int kGemmTokens = 4;
using GemmTileFn = void (*)(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                            int64_t y_stride);

struct TypeKernels {
  DType act_type = DType::F32;
  VecDotFn vec_dot = nullptr;
  QuantizeActFn quantize_act = nullptr;
  GemmTileFn gemm_tile = nullptr;  // optional; nullptr = products are built from vec_dot
};

// Kernels for a weight type under the active dispatch; throws for unsupported types.
const TypeKernels& type_kernels(DType weight_type);
// Scalar-reference table, whatever the active dispatch is (for tests).
const TypeKernels& type_kernels_ref(DType weight_type);
// SIMD table for this CPU (falls back to reference where no SIMD version exists).
const TypeKernels& type_kernels_simd(DType weight_type);

void use_reference_kernels(bool on);
bool using_reference_kernels();
// Name of the active dispatch, e.g. "avx2" or "ref".
const char* dispatch_name();

}  // namespace pocket::kernels
