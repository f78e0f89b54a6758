// Vision tower benchmark: loads an mmproj, then times VisionEncoder::encode() on one synthetic
// preprocessed input (idefics3: one tile of image_size; pixtral: a 1008x756 image by default),
// several repetitions; prints wall and CPU time per repetition, their medians, and peak RSS.
// The machine may be shared, so the median is the number to quote, with CPU time beside it
// (CPU time ~ threads x wall means the threads were not starved).
//
// It also measures the machine's arithmetic peak (kernels/peak.h) on the same threads and
// reports the fraction reached against the ceiling of the path the tower's products took (BF16
// dot products for F16/BF16 towers on CPUs that have them, int8 for Q8_0 with VNNI, else FP32
// FMA); with BF16 products it prints their NMSE against the float products for the same input.
//
//   pocket-vision-bench --mmproj /tmp/256m-mmproj-f16.gguf [-t 2] [-r 3] [--width W --height H] [--warmup 0]
//                       [--no-bf16] [--no-peak] [--no-check]
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/gemm_f32.h"
#include "kernels/peak.h"
#include "vision/vision_encoder.h"

namespace {

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time a vision tower's encode() on a synthetic input"};
  std::string mmproj;
  int threads = 2, reps = 3, warmup = 0;
  int64_t width = 0, height = 0;
  bool ref = false, no_bf16 = false, no_peak = false, no_check = false;
  app.add_option("--mmproj", mmproj, "Vision mmproj GGUF")->required();
  app.add_option("-t,--threads", threads, "Threads (caller included)")->check(CLI::Range(1, 256));
  app.add_option("-r,--reps", reps, "Timed repetitions")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "Untimed repetitions first")->check(CLI::Range(0, 100));
  app.add_option("--width", width, "Input width (idefics3: the tile side; pixtral: default 1008)");
  app.add_option("--height", height, "Input height (idefics3: the tile side; pixtral: default 756)");
  app.add_flag("--ref-kernels", ref, "Use the scalar reference kernels");
  app.add_flag("--no-bf16", no_bf16, "Float products even where the CPU has BF16 dot products");
  app.add_flag("--no-peak", no_peak, "Skip the arithmetic peak probe");
  app.add_flag("--no-check", no_check, "Skip the BF16-vs-float comparison encode");
  CLI11_PARSE(app, argc, argv);
  try {
    pocket::kernels::set_isa(ref ? pocket::kernels::Isa::Ref : pocket::kernels::startup_isa());
    pocket::kernels::set_vision_bf16(!no_bf16);
    const double rss0 = peak_rss_mib();
    auto t0 = std::chrono::steady_clock::now();
    auto enc = pocket::VisionEncoder::load(mmproj);
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const pocket::ClipHParams& hp = enc->hparams();
    if (width == 0 || height == 0) std::tie(width, height) = enc->typical_input();
    const int64_t n_tokens = enc->n_tokens(width, height);  // validates the size
    const int64_t n_patches = (width / hp.patch_size) * (height / hp.patch_size);
    const double flop = enc->encode_flops(width, height);
    std::printf("%s: %s, width %lld, %lld layers, %lld heads, d_ff %lld, patch %lld; input %lldx%lld = %lld patches -> "
                "%lld tokens x %lld; dispatch %s, %d threads; load %.0f ms\n",
                mmproj.c_str(), hp.projector_name.c_str(), static_cast<long long>(hp.d_model),
                static_cast<long long>(hp.n_layers), static_cast<long long>(hp.n_heads),
                static_cast<long long>(hp.d_ff), static_cast<long long>(hp.patch_size), static_cast<long long>(width),
                static_cast<long long>(height), static_cast<long long>(n_patches), static_cast<long long>(n_tokens),
                static_cast<long long>(enc->n_embd()), pocket::kernels::dispatch_name(), threads, load_ms);

    // Normalized pixels in [-1, 1]; the values do not change the work done.
    std::vector<float> pixels(static_cast<size_t>(width * height * 3));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& p : pixels) p = u(rng);

    pocket::ThreadPool pool(threads);
    std::vector<float> out;
    for (int i = 0; i < warmup; ++i) enc->encode(pixels.data(), width, height, out, pool);
    std::vector<double> wall, cpu;
    for (int i = 0; i < reps; ++i) {
      const double c0 = cpu_seconds();
      t0 = std::chrono::steady_clock::now();
      enc->encode(pixels.data(), width, height, out, pool);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(cpu_seconds() - c0);
      std::printf("rep %d: %.3f s wall, %.3f s CPU\n", i, wall.back(), cpu.back());
      std::fflush(stdout);
    }
    double sum = 0;
    bool finite = true;
    for (float v : out) {
      finite = finite && std::isfinite(v);
      sum += std::fabs(v);
    }
    std::printf("median: %.3f s wall, %.3f s CPU (min %.3f s wall); %.0f GFLOP: %.1f GFLOP/s per CPU-second; mean |out| "
                "%.4g%s; peak RSS %.0f MiB (%.0f before load)\n",
                median(wall), median(cpu), *std::min_element(wall.begin(), wall.end()), flop / 1e9,
                flop / 1e9 / median(cpu), sum / static_cast<double>(out.size()), finite ? "" : " (NON-FINITE VALUES)",
                peak_rss_mib(), rss0);
    // Which products the tower's matrices took, from the type of its first layer's Q matrix.
    const pocket::DType wt = enc->weight_type();
    const bool bf16 = pocket::kernels::gemm_f32_has_bf16() && (wt == pocket::DType::F16 || wt == pocket::DType::BF16);
    const bool int8 = wt == pocket::DType::Q8_0 && pocket::kernels::gemm_f32_q8_is_int8();
    if (bf16 && !no_check) {
      pocket::kernels::set_vision_bf16(false);
      std::vector<float> ref_out;
      enc->encode(pixels.data(), width, height, ref_out, pool);
      pocket::kernels::set_vision_bf16(true);
      double num = 0, den = 0;
      for (size_t i = 0; i < out.size(); ++i) {
        num += (static_cast<double>(out[i]) - ref_out[i]) * (static_cast<double>(out[i]) - ref_out[i]);
        den += static_cast<double>(ref_out[i]) * ref_out[i];
      }
      std::printf("BF16 products vs float products: NMSE %.3g\n", den > 0 ? num / den : num);
    }
    if (!no_peak && !ref) {
      const pocket::kernels::ComputePeak pk = pocket::kernels::measure_compute_peak(threads);
      // The float GEMM tile is 256-bit on every x86 level (x86/gemm_f32_avx2.cpp).
      const double peak = bf16 ? pk.bf16_gflops : int8 ? pk.int8_gops : pk.fp32_256_gflops;
      const char* what = bf16 ? "BF16 dot" : int8 ? "int8 dot" : "FP32 FMA (256-bit)";
      const double per_s = flop / 1e9 / median(wall);
      std::printf("peak (%d threads): FP32 FMA %.0f (256-bit %.0f), BF16 %.0f, int8 %.0f G/s; this tower's products are "
                  "%s: %.0f GFLOP/s = %.0f%% of that peak (whole encode, norms and softmax included)\n",
                  threads, pk.fp32_gflops, pk.fp32_256_gflops, pk.bf16_gflops, pk.int8_gops, what, per_s,
                  100.0 * per_s / peak);
    }
    return finite ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
