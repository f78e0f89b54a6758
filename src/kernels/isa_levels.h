// The fillers each ISA folder defines (kernels/dispatch.h): only the folders this build
// compiles are called (POCKET_KERNELS_X86 / POCKET_KERNELS_ARM, set by src/kernels/CMakeLists.txt).
// A filler runs only once the CPU is known to have its level; it receives the table of the
// level below, filled, and replaces the entries it implements.
#pragma once

#include "kernels/dispatch.h"

namespace pocket::kernels {

void fill_ref(KernelTable& t);         // ref/table_ref.cpp
void fill_avx2(KernelTable& t);        // x86/table_x86.cpp: AVX2 + FMA + F16C + BMI2
void fill_avxvnni(KernelTable& t);     // x86/table_x86.cpp: AVX-VNNI (VEX vpdpbusd, 256-bit) on top of AVX2
void fill_avx512vnni(KernelTable& t);  // x86/table_x86.cpp: AVX512-VNNI (+F, BW, VL) on top of AVX2
void fill_neon(KernelTable& t);        // arm/table_arm.cpp: ARMv8-A Advanced SIMD
void fill_dotprod(KernelTable& t);     // arm/table_arm.cpp: + SDOT/UDOT (ARMv8.2-A DotProd)
void fill_i8mm(KernelTable& t);        // arm/table_arm.cpp: + SMMLA (ARMv8.6-A I8MM)

// Replaces a weight type's row product; the activation quantizer and the 2x4 tile only where
// given (the level below's stay otherwise).
inline void set_product(KernelTable& t, DType w, VecDotFn dot, QuantizeActFn quantize = nullptr,
                        GemmTileFn tile = nullptr) {
  TypeKernels& k = t.types[static_cast<int>(w)];
  k.vec_dot = dot;
  if (quantize) k.quantize_act = quantize;
  if (tile) k.gemm_tile = tile;
}

}  // namespace pocket::kernels
