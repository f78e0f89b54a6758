// The x86 throughput loops of kernels/peak.h (x86/peak_x86.cpp). Each runs `iters` iterations
// of 12 independent instructions: fma_* 12 FMAs (16 or 8 lanes), bf16_zmm 12 vdpbf16ps (32 pairs),
// vnni_zmm / avxvnni_ymm 12 vpdpbusd (64 / 32 byte products), maddubs_ymm 12 vpmaddubsw
// sequences (32 byte products). Call one only on a CPU with its instructions.
#pragma once

#include <cstdint>

namespace pocket::kernels::peak_x86 {

float fma_ymm(int64_t iters);
float fma_zmm(int64_t iters);
float bf16_zmm(int64_t iters);
float vnni_zmm(int64_t iters);
float avxvnni_ymm(int64_t iters);
float maddubs_ymm(int64_t iters);

}  // namespace pocket::kernels::peak_x86
