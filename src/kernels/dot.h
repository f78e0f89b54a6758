// Row dot products between a weight row (any supported DType) and an activation row that
// was first converted to the weight type's activation format (Q8_0, Q8_1, Q8_K or F32),
// as llama.cpp does (ref: ggml/src/ggml-cpu/ggml-cpu.c type_traits_cpu vec_dot_type).
// Which implementation runs is the active kernel level's choice (kernels/dispatch.h).
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

struct KernelTable;

// Kernels for a weight type under the active level; throws for unsupported types.
const TypeKernels& type_kernels(DType weight_type);
// The same from a given level's table (tests compare levels).
const TypeKernels& type_kernels(const KernelTable& table, DType weight_type);
// Name of the active level, e.g. "avx2" or "ref".
const char* dispatch_name();

}  // namespace pocket::kernels
