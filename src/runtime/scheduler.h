// Continuous batching for a server: one Engine shared by up to n_parallel sequences, each
// with its own KV cache. Between decode steps, queued requests are admitted into free slots
// and prefilled (runtime/engine.h prefill); then one DecoderModel::forward_multi call carries
// the next token of every active sequence. Token choice, text and stopping are each slot's
// Generation (runtime/generation.h), the same as Session::generate's; because forward_multi's
// rows do not depend on each other (bit for bit), a request produces the same tokens alone,
// beside other requests, and through Session::generate, for the same seed and parameters.
// The scheduler owns admission, batching and metrics, nothing else.
//
// Requests cross threads through GenRequest: the caller fills the input fields, submit()s,
// then waits on it for text; the scheduler thread appends text and finally marks it done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine.h"

namespace pocket {

struct GenRequest {
  // ---- input (set before submit) ----
  std::vector<int32_t> prompt;
  std::vector<const float*> embd;     // optional [prompt.size()]: image rows, nullptr for text
  std::shared_ptr<const void> embd_owner;  // keeps the rows alive
  GenerationParams params;            // sampling, stop strings, constraints, max_tokens

  // ---- output (written by the scheduler) ----
  std::atomic<bool> cancel{false};    // set by the caller (client went away)

  // Waits up to timeout_ms for news; moves text produced since the last call into `out`
  // (appending). Returns true once the request is finished and all its text was taken.
  bool wait(std::string& out, int timeout_ms);
  // Moves the log-probabilities of the tokens generated since the last call into `out`
  // (params.top_logprobs >= 0); call after wait().
  void take_logprobs(std::vector<TokenLogprob>& out);
  bool finished() const;
  std::string finish_reason() const;  // OpenAI's: "stop", "length"; or "cancelled", "error"
  std::string error() const;
  int64_t n_prompt() const { return static_cast<int64_t>(prompt.size()); }
  // Prompt tokens whose KV a slot already held (prompt caching); the rest were prefilled.
  int64_t n_cached() const { return n_cached_.load(); }
  int64_t n_generated() const { return n_generated_.load(); }
  int64_t n_reasoning() const { return n_reasoning_.load(); }  // of them, inside thinking blocks
  double ttft_seconds() const { return ttft_.load(); }

 private:
  friend class Scheduler;
  void push_text(std::string_view s);
  void finish(FinishReason why, const std::string& error = "");
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  std::vector<TokenLogprob> logprobs_;
  bool done_ = false;
  std::string finish_reason_, error_;
  std::atomic<int64_t> n_generated_{0}, n_cached_{0}, n_reasoning_{0};
  std::atomic<double> ttft_{0};
  double t_submit_ = 0;
};

struct SchedulerOptions {
  int n_parallel = 1;
  int64_t n_ctx = 4096;       // per sequence; capped by the model's training context
  int64_t n_batch = 256;      // prefill tokens per forward call
  int max_queue = 64;         // waiting requests beyond the active ones
  // Observers, called on the scheduler thread (keep them cheap and thread-safe).
  std::function<void(double)> on_first_token;   // seconds from submit to the first token
  std::function<void(double)> on_token;         // seconds between a sequence's tokens
};

class Scheduler {
 public:
  Scheduler(Engine& engine, const SchedulerOptions& opt);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; false when the queue is full (the request is left untouched).
  bool submit(const std::shared_ptr<GenRequest>& r);
  // Cancels every queued and running request (they finish with "cancelled").
  void cancel_all();
  // Cancels everything and joins the scheduler thread.
  void stop();

  int queued() const { return queued_.load(); }
  int active() const { return active_.load(); }
  int64_t kv_cells_used() const { return kv_cells_.load(); }
  int64_t kv_cells_total() const { return n_ctx_ * static_cast<int64_t>(slots_.size()); }
  int64_t n_ctx() const { return n_ctx_; }
  int n_parallel() const { return static_cast<int>(slots_.size()); }
  // Batched decode steps run, and the sequence rows they carried (rows / steps = mean batch).
  uint64_t decode_steps() const { return steps_.load(); }
  // Prompt tokens taken from a slot's kept KV, and prompt tokens prefilled (since start).
  uint64_t prompt_tokens_cached() const { return cached_total_.load(); }
  uint64_t prompt_tokens_prefilled() const { return prefilled_total_.load(); }
  uint64_t decode_rows() const { return rows_total_.load(); }

 private:
  struct Slot;
  void loop();
  void admit();
  void prefill_new();
  void emit(Slot& s, int32_t id);
  void finish(Slot& s, FinishReason why, const std::string& error = "");

  Engine& engine_;
  SchedulerOptions opt_;
  int64_t n_ctx_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
  DecoderActivations prefill_act_, step_act_;
  std::vector<DecoderRow> rows_;
  std::vector<KvCache*> kvs_;
  std::vector<Slot*> row_slot_;
  std::vector<Slot*> order_;   // prefill order (reserved; no allocation per step)
  uint64_t admissions_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<GenRequest>> queue_;
  bool stopping_ = false;
  std::atomic<int> queued_{0}, active_{0};
  std::atomic<int64_t> kv_cells_{0};
  std::atomic<uint64_t> steps_{0}, rows_total_{0}, cached_total_{0}, prefilled_total_{0};
  // Prompt caching: what a slot's KV holds, one key per position (see scheduler.cpp).
  std::vector<uint64_t> keys_of(const GenRequest& r) const;
  std::thread thread_;
};

}  // namespace pocket
