// What every route handler shares: options, limits, the loaded model (once ready), the
// scheduler, the vision encoder and the metrics. Internal to apps/server.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <httplib.h>

#include "apps/server/media.h"
#include "apps/server/metrics.h"
#include "apps/server/server.h"
#include "chat/openai_request.h"
#include "chat/reasoning.h"
#include "chat/tool_calls.h"
#include "runtime/scheduler.h"
#include "vision/vision_encoder.h"

namespace pocket::server {

// Decoded pixels in flight over all requests: a request holds its images' pixels from
// decoding until its embeddings are computed, so N image requests cannot hold N times the
// memory of one. A request larger than the whole budget takes all of it.
class PixelBudget {
 public:
  void set_capacity(uint64_t pixels) { capacity_ = pixels; }
  class Lease {
   public:
    Lease(PixelBudget& b, uint64_t pixels) : b_(b), n_(std::min(pixels, b.capacity_)) {
      std::unique_lock<std::mutex> lk(b_.mu_);
      b_.cv_.wait(lk, [&] { return b_.used_ + n_ <= b_.capacity_; });
      b_.used_ += n_;
    }
    ~Lease() {
      {
        std::lock_guard<std::mutex> lk(b_.mu_);
        b_.used_ -= n_;
      }
      b_.cv_.notify_all();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    PixelBudget& b_;
    uint64_t n_;
  };

 private:
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
};

struct ServerState {
  ServerOptions opt;
  OpenAiLimits limits;
  MediaLimits media;
  Metrics metrics;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> trim_pending{false};  // image work since the heap was last trimmed
  std::unique_ptr<Engine> engine;
  std::unique_ptr<VisionEncoder> vision;
  std::unique_ptr<ThreadPool> vision_pool;  // separate from the engine's, which the scheduler owns
  std::mutex vision_mu;
  PixelBudget pixel_budget;  // --max-concurrent-pixels
  std::unique_ptr<Scheduler> sched;
  std::optional<ToolCallFormat> tool_format;
  std::optional<ReasoningFormat> reasoning;  // a reasoning model's thinking markers
  std::atomic<uint64_t> next_id{1};
  int64_t created = static_cast<int64_t>(std::time(nullptr));
};

// A generation ready to submit, plus how to turn its text into an answer.
struct Prepared {
  std::vector<std::shared_ptr<GenRequest>> gens;  // one per choice (n); they share the prompt
  bool chat = true;
  bool parse_tools = false;
  ToolCallFormat format;
  std::string forced_prefix;  // already in the prompt; fed to the tool-call parser first
  std::optional<ReasoningFormat> reasoning;  // split thinking from the answer (chat, reasoning models)
  bool starts_thinking = false;              // the prompt ends with the open marker
  OpenAiGenerationParams params;
};

// Sends {"error": ...} with the error's status and counts it.
void send_error(ServerState& st, httplib::Response& res, const std::string& endpoint, const ApiError& e);

// Routes (routes.cpp) and the generation endpoints' pieces (prepare.cpp, respond.cpp).
void register_routes(httplib::Server& svr, ServerState& st);
Prepared prepare_chat(ServerState& st, OpenAiChatRequest& req);
Prepared prepare_completion(ServerState& st, OpenAiCompletionRequest& req);
// Submits and answers (JSON or server-sent events); counts the request in the metrics.
void respond(ServerState& st, httplib::Response& res, Prepared p, const std::string& endpoint);

}  // namespace pocket::server
