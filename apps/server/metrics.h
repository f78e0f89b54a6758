// Server metrics in the Prometheus text exposition format (version 0.0.4): request counts
// by endpoint and status, token counters, time-to-first-token and per-token latency
// histograms, and gauges read from the scheduler at scrape time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "apps/server/connections.h"

namespace pocket {
class Scheduler;
struct EmbeddingCacheStats;
}

namespace pocket::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends `name_bucket{le=...}`, `name_sum`, `name_count` lines.
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // cumulative at render; per bucket here
  double sum_ = 0;
  uint64_t count_ = 0;
  mutable std::mutex mu_;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& endpoint, int status);
  void add_tokens(int64_t prompt, int64_t generated);
  void count_dropped(Dropped why);
  void observe_ttft(double s) { ttft_.observe(s); }
  void observe_token(double s) { token_.observe(s); }
  // The whole exposition; `sched` may be null (model still loading), `images` null without a
  // vision projector or its cache.
  std::string render(const Scheduler* sched, bool ready, const EmbeddingCacheStats* images = nullptr) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
  std::map<Dropped, uint64_t> dropped_;
  Histogram ttft_, token_;
};

}  // namespace pocket::server
