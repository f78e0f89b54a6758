// Quantized products with SDOT (ARMv8.2-A DotProd; compiled with +dotprod, selected only when
// the CPU reports it): the shared source dot_quants.inc.
#include <arm_neon.h>

#include "core/fp16.h"
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/neon_util.h"
#include "quant/blocks.h"
#include "quant/kquants.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "dot_dotprod.cpp must be compiled with +dotprod (src/kernels/CMakeLists.txt)"
#endif

namespace pocket::kernels::dotprod {
#include "kernels/arm/dot_quants.inc"
}  // namespace pocket::kernels::dotprod
