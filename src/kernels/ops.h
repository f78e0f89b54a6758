// Element-wise and row operations used by every architecture: norms, activations, softmax,
// RoPE, and the f16 KV-cache dot/axpy that attention is made of. Each op has a scalar
// reference (ops_ref.cpp) and per-ISA versions; ops() returns the active level's table
// (kernels/dispatch.h).
#pragma once

#include <cstdint>

namespace pocket::kernels {

struct OpsTable {
  // y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no weight)
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n, float eps);
  // y = (x - mean) / sqrt(var + eps) * w + b   (w, b may be null)
  void (*layernorm)(const float* x, const float* w, const float* b, float* y, int64_t n, float eps);
  // y = silu(g) * u
  void (*swiglu)(const float* g, const float* u, float* y, int64_t n);
  // x = gelu_tanh(x), in place
  void (*gelu_tanh)(float* x, int64_t n);
  // x = gelu_erf(x), in place
  void (*gelu_erf)(float* x, int64_t n);
  // x = softmax(x) in place; returns nothing. Handles -inf entries.
  void (*softmax)(float* x, int64_t n);
  // y += x
  void (*add)(float* y, const float* x, int64_t n);
  // sum k[i] * q[i], k in f16
  float (*dot_f16)(const uint16_t* k, const float* q, int64_t n);
  // sum a[i] * b[i]
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  // y += a * v, v in f16
  void (*axpy_f16)(float a, const uint16_t* v, float* y, int64_t n);
  // y += a * v
  void (*axpy_f32)(float a, const float* v, float* y, int64_t n);
  // dst = f16(src)
  void (*to_f16)(const float* src, uint16_t* dst, int64_t n);
};

// The active level's ops.
const OpsTable& ops();

namespace ref {
extern const OpsTable kOps;
}

// Rotary embedding on adjacent pairs (x[2i], x[2i+1]) — the layout GGUF stores Q/K in
// (llama.cpp "NORM" rope) — for n_heads heads of head_dim values, rotating the first
// rot_dims dims. cos_sin holds [rot_dims/2] (cos, sin) pairs for this position.
void rope_adjacent(float* x, int n_heads, int head_dim, int rot_dims, const float* cos_sin);

}  // namespace pocket::kernels
