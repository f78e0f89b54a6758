// Matmul micro-benchmark on weights of the decoder's shapes (repacked where the level can),
// timed in process CPU time so that other work on a shared machine does not skew A/B
// comparisons. `plain` keeps the file layout (row products and 2x4 tiles).
//   pocket-matmul-bench [type] [n_out] [n_in] [n_tokens] [reps] [plain]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/repack.h"
#include "quant/types.h"

namespace {
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace pocket;
  using namespace pocket::kernels;
  const auto parsed = dtype_from_name(argc > 1 ? argv[1] : "q8_0");
  if (!parsed) {
    std::fprintf(stderr, "unknown weight type %s\n", argv[1]);
    return 2;
  }
  const DType t = *parsed;
  const bool plain = argc > 6 && std::string(argv[6]) == "plain";
  const int64_t n_out = argc > 2 ? std::atoll(argv[2]) : 2048;
  const int64_t n_in = argc > 3 ? std::atoll(argv[3]) : 2048;
  const int64_t n_tok = argc > 4 ? std::atoll(argv[4]) : 64;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 5;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> wf(n_in), x(n_in * n_tok), y(n_out * n_tok);
  std::vector<uint8_t> wq(row_bytes(t, n_in) * n_out);
  for (int64_t r = 0; r < n_out; ++r) {
    for (auto& v : wf) v = nd(rng);
    quantize_row(t, wf.data(), wq.data() + r * row_bytes(t, n_in), n_in);
  }
  for (auto& v : x) v = nd(rng);
  ThreadPool pool(1);
  WeightRef w{t, wq.data(), n_in, n_out, row_bytes(t, n_in)};
  AlignedBuffer<uint8_t> packed;
  if (!plain && can_repack(w)) repack_weight(w, packed, pool);
  MatmulScratch scratch;
  matmul(w, x.data(), n_tok, y.data(), scratch, pool);
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double c0 = cpu_seconds();
    matmul(w, x.data(), n_tok, y.data(), scratch, pool);
    best = std::min(best, cpu_seconds() - c0);
  }
  const double macs = static_cast<double>(n_out) * static_cast<double>(n_in) * static_cast<double>(n_tok);
  std::printf("%s %lldx%lld tokens %lld%s: best %.3f ms cpu, %.1f GMAC/s\n", dtype_name(t), static_cast<long long>(n_out),
              static_cast<long long>(n_in), static_cast<long long>(n_tok), w.packed ? " (repacked)" : "", best * 1e3,
              macs / best * 1e-9);
  return 0;
}
