// Sustained memory read bandwidth of this machine, measured by streaming a buffer much
// larger than the caches: the ceiling for decode speed (tokens/s <= bandwidth / bytes per token).
#pragma once

#include <cstddef>

namespace pocket {

// Best of `passes` reads of a `mib` MiB buffer with `threads` threads, in bytes per second.
double measure_read_bandwidth(int threads, size_t mib = 512, int passes = 3);

}  // namespace pocket
