// `pocket bench`: prompt-processing (pp) and generation (tg) throughput, median and spread
// over repetitions, peak resident memory, and decode bandwidth (weight bytes read per token).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "core/error.h"
#include "core/membw.h"
#include "core/timer.h"
#include "kernels/dot.h"

namespace pocket::cli {

namespace {

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {med, v.front(), v.back()};
}

// Bytes of weights streamed from memory for one decoded token: every matrix once,
// one embedding row.
double weight_bytes_per_token(const DecoderModel& m) {
  auto bytes = [](const kernels::WeightRef& w) { return static_cast<double>(w.row_stride) * w.n_out; };
  double s = 0;
  for (const auto& L : m.weights().layers)
    s += bytes(L.wq) + bytes(L.wk) + bytes(L.wv) + bytes(L.wo) + bytes(L.w_gate) + bytes(L.w_up) + bytes(L.w_down);
  s += bytes(m.weights().output) + m.weights().tok_embd.row_stride;
  return s;
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt and generation throughput");
  struct Args {
    ModelArgs m;
    int n_prompt = 512, n_gen = 128, reps = 5;
    int64_t n_batch = 512;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  a->m.add(cmd);
  cmd->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens (0 = skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--n-gen", a->n_gen, "Generated tokens (0 = skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-r,--repetitions", a->reps, "Repetitions")->check(CLI::Range(1, 1000));
  cmd->add_option("-b,--batch-size", a->n_batch, "Prompt batch size")->check(CLI::Range(1, 1 << 16));
  cmd->add_flag("--json", a->json, "Print one JSON object instead of a table");
  cmd->callback([a] {
    auto engine = a->m.load();
    const TextHParams& hp = engine->hparams();
    SessionOptions so;
    so.n_ctx = a->n_prompt + a->n_gen + 1;
    so.n_batch = std::min<int64_t>(a->n_batch, std::max(1, a->n_prompt));
    Session s(*engine, so);
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(hp.n_vocab - 1));
    std::vector<int32_t> prompt(a->n_prompt);
    for (auto& t : prompt) t = pick(rng);

    // Warm-up: touches the weights once so the first repetition does not pay page faults.
    s.reset();
    s.step(pick(rng));
    std::vector<double> pp, tg;
    for (int r = 0; r < a->reps; ++r) {
      if (a->n_prompt > 0) {
        s.reset();
        const double t0 = now_seconds();
        s.eval(prompt);
        pp.push_back(a->n_prompt / (now_seconds() - t0));
      }
      if (a->n_gen > 0) {
        s.reset();
        int32_t tok = pick(rng);
        const double t0 = now_seconds();
        for (int i = 0; i < a->n_gen; ++i) tok = argmax(s.step(tok), static_cast<int32_t>(hp.n_vocab));
        tg.push_back(a->n_gen / (now_seconds() - t0));
      }
    }
    const double wbytes = weight_bytes_per_token(engine->model());
    const double peak = static_cast<double>(peak_rss_bytes());  // before the bandwidth probe's buffer
    // Decode reads every weight once per token: bandwidth / bytes is its ceiling.
    const double bw = a->n_gen > 0 ? measure_read_bandwidth(engine->pool().size(), 512, 3) : 0;
    const char* dispatch = kernels::dispatch_name();
    if (a->json) {
      std::printf("{\"model\": \"%s\", \"threads\": %d, \"kernels\": \"%s\", \"weight_bytes_per_token\": %.0f, \"peak_rss_bytes\": %.0f",
                  a->m.model.c_str(), engine->pool().size(), dispatch, wbytes, peak);
      if (!pp.empty()) {
        Stats st = stats(pp);
        std::printf(", \"pp\": {\"n\": %d, \"median\": %.3f, \"min\": %.3f, \"max\": %.3f}", a->n_prompt, st.median, st.min, st.max);
      }
      if (!tg.empty()) {
        Stats st = stats(tg);
        std::printf(", \"tg\": {\"n\": %d, \"median\": %.3f, \"min\": %.3f, \"max\": %.3f, \"bandwidth_gbs\": %.3f, "
                    "\"machine_read_gbs\": %.3f, \"fraction_of_bandwidth_limit\": %.3f}",
                    a->n_gen, st.median, st.min, st.max, st.median * wbytes / 1e9, bw / 1e9, st.median * wbytes / bw);
      }
      std::printf("}\n");
      return;
    }
    std::printf("model: %s (%s, %lld layers, d_model %lld)\nthreads: %d, kernels: %s, repetitions: %d\n",
                a->m.model.c_str(), hp.arch.c_str(), static_cast<long long>(hp.n_layers),
                static_cast<long long>(hp.d_model), engine->pool().size(), dispatch, a->reps);
    if (!pp.empty()) {
      Stats st = stats(pp);
      std::printf("pp%-5d %10.2f tok/s  (min %.2f, max %.2f)\n", a->n_prompt, st.median, st.min, st.max);
    }
    if (!tg.empty()) {
      Stats st = stats(tg);
      std::printf("tg%-5d %10.2f tok/s  (min %.2f, max %.2f)  weights %.1f MiB/token -> %.2f GB/s\n", a->n_gen, st.median,
                  st.min, st.max, wbytes / 1048576.0, st.median * wbytes / 1e9);
      std::printf("        machine read bandwidth %.2f GB/s -> limit %.2f tok/s; decode at %.0f%% of the limit\n", bw / 1e9,
                  bw / wbytes, 100.0 * st.median * wbytes / bw);
    }
    std::printf("peak RSS: %.1f MiB\n", peak / 1048576.0);
  });
}

}  // namespace pocket::cli
