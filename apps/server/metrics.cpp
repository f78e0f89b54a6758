// Prometheus text rendering of the server's counters and histograms.
#include "apps/server/metrics.h"

#include <fmt/format.h>

#include "runtime/scheduler.h"
#include "vision/embedding_cache.h"

namespace pocket::server {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cum);
  }
  cum += counts_.back();
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cum);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      token_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  // Known routes only: a label per requested path would let clients grow /metrics without bound.
  static const char* const kRoutes[] = {"/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions"};
  std::string label = "other";
  for (const char* r : kRoutes)
    if (endpoint == r) label = r;
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{label, status}];
}

void Metrics::count_dropped(Dropped why) {
  std::lock_guard<std::mutex> lk(mu_);
  ++dropped_[why];
}

void Metrics::add_tokens(int64_t prompt, int64_t generated) {
  std::lock_guard<std::mutex> lk(mu_);
  prompt_tokens_ += static_cast<uint64_t>(prompt);
  generated_tokens_ += static_cast<uint64_t>(generated);
}

std::string Metrics::render(const Scheduler* sched, bool ready, const EmbeddingCacheStats* images) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lk(mu_);
    out += "# HELP pocket_requests_total HTTP requests by endpoint and status code.\n";
    out += "# TYPE pocket_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out += fmt::format("pocket_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    out += "# HELP pocket_connections_dropped_total Connections closed before their request was answered, by reason.\n";
    out += "# TYPE pocket_connections_dropped_total counter\n";
    for (const auto& [why, n] : dropped_)
      out += fmt::format("pocket_connections_dropped_total{{reason=\"{}\"}} {}\n", dropped_label(why), n);
    out += "# HELP pocket_prompt_tokens_total Prompt tokens processed.\n# TYPE pocket_prompt_tokens_total counter\n";
    out += fmt::format("pocket_prompt_tokens_total {}\n", prompt_tokens_);
    out += "# HELP pocket_generated_tokens_total Tokens generated.\n# TYPE pocket_generated_tokens_total counter\n";
    out += fmt::format("pocket_generated_tokens_total {}\n", generated_tokens_);
  }
  out += "# HELP pocket_time_to_first_token_seconds Time from accepting a request to its first token.\n";
  out += "# TYPE pocket_time_to_first_token_seconds histogram\n";
  ttft_.render(out, "pocket_time_to_first_token_seconds");
  out += "# HELP pocket_token_latency_seconds Time between consecutive tokens of a sequence.\n";
  out += "# TYPE pocket_token_latency_seconds histogram\n";
  token_.render(out, "pocket_token_latency_seconds");
  out += "# HELP pocket_model_loaded 1 once the model is loaded.\n# TYPE pocket_model_loaded gauge\n";
  out += fmt::format("pocket_model_loaded {}\n", ready ? 1 : 0);
  out += "# HELP pocket_queue_depth Requests waiting for a sequence slot.\n# TYPE pocket_queue_depth gauge\n";
  out += fmt::format("pocket_queue_depth {}\n", sched ? sched->queued() : 0);
  out += "# HELP pocket_active_sequences Sequences being generated.\n# TYPE pocket_active_sequences gauge\n";
  out += fmt::format("pocket_active_sequences {}\n", sched ? sched->active() : 0);
  out += "# HELP pocket_kv_cells_used KV cache cells holding tokens, over all sequences.\n# TYPE pocket_kv_cells_used gauge\n";
  out += fmt::format("pocket_kv_cells_used {}\n", sched ? sched->kv_cells_used() : 0);
  out += "# HELP pocket_decode_steps_total Batched decode steps (one forward call each).\n# TYPE pocket_decode_steps_total counter\n";
  out += fmt::format("pocket_decode_steps_total {}\n", sched ? sched->decode_steps() : 0);
  out += "# HELP pocket_decode_rows_total Sequence rows carried by decode steps (rows / steps = mean batch).\n";
  out += "# TYPE pocket_decode_rows_total counter\n";
  out += fmt::format("pocket_decode_rows_total {}\n", sched ? sched->decode_rows() : 0);
  out += "# HELP pocket_prompt_tokens_cached_total Prompt tokens whose KV a slot already held (not prefilled).\n";
  out += "# TYPE pocket_prompt_tokens_cached_total counter\n";
  out += fmt::format("pocket_prompt_tokens_cached_total {}\n", sched ? sched->prompt_tokens_cached() : 0);
  out += "# HELP pocket_prompt_tokens_prefilled_total Prompt tokens prefilled.\n";
  out += "# TYPE pocket_prompt_tokens_prefilled_total counter\n";
  out += fmt::format("pocket_prompt_tokens_prefilled_total {}\n", sched ? sched->prompt_tokens_prefilled() : 0);
  out += "# HELP pocket_kv_cells_total KV cache cells allocated, over all sequences.\n# TYPE pocket_kv_cells_total gauge\n";
  out += fmt::format("pocket_kv_cells_total {}\n", sched ? sched->kv_cells_total() : 0);
  if (images) {
    out += "# HELP pocket_image_cache_hits_total Image tiles whose embeddings came from the cache (not encoded again).\n";
    out += "# TYPE pocket_image_cache_hits_total counter\n";
    out += fmt::format("pocket_image_cache_hits_total {}\n", images->hits);
    out += "# HELP pocket_image_cache_misses_total Image tiles encoded by the vision tower.\n";
    out += "# TYPE pocket_image_cache_misses_total counter\n";
    out += fmt::format("pocket_image_cache_misses_total {}\n", images->misses);
    out += "# HELP pocket_image_cache_bytes Bytes of embeddings the image cache holds.\n# TYPE pocket_image_cache_bytes gauge\n";
    out += fmt::format("pocket_image_cache_bytes {}\n", images->bytes);
  }
  return out;
}

}  // namespace pocket::server
