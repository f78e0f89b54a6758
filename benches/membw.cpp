// Prints this machine's sustained memory read bandwidth (see core/membw.h).
//   pocket-membw [threads] [MiB]
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/membw.h"

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  const size_t mib = argc > 2 ? static_cast<size_t>(std::atol(argv[2])) : 1024;
  std::printf("read bandwidth: %.2f GB/s (%d threads, %zu MiB, best of 5)\n",
              pocket::measure_read_bandwidth(threads, mib, 5) / 1e9, threads, mib);
  return 0;
}
