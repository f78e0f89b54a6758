// Monotonic wall clock and peak resident memory, for benchmarks and reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pocket {

inline double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Peak resident set size of this process in bytes (VmHWM), 0 if unknown.
uint64_t peak_rss_bytes();
// Current resident set size in bytes (VmRSS), 0 if unknown.
uint64_t current_rss_bytes();

// The current UTC time as ISO 8601, e.g. "2026-11-24T05:28:26Z" (report and manifest stamps).
std::string utc_now_iso();

}  // namespace pocket
