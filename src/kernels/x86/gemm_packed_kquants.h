// Kernels over repacked Q2_K / Q3_K / Q4_K / Q5_K / Q6_K weights (kernels/repack.h, x86/packed_kquants.inc):
// PackedTileFn entries, 8 rows (one group) or 16 rows (two consecutive groups) x up to 4
// tokens of Q8_K activations (`asum` unused), one set (kernels/dispatch.h PackedKQuantTiles)
// per x86 level.
#pragma once

#include "kernels/dispatch.h"

namespace pocket::kernels {

namespace avx2 {
extern const PackedKQuantTiles kPackedKQuantTiles;  // vpmaddubsw (+ vpmaddwd), ymm
}
namespace avxvnni {
extern const PackedKQuantTiles kPackedKQuantTiles;  // VEX vpdpbusd, ymm
}
namespace vnni {
extern const PackedKQuantTiles kPackedKQuantTiles;  // EVEX vpdpbusd, ymm (8 rows) and zmm (16 rows)
}

}  // namespace pocket::kernels
