// The continuous-batching loop: admit -> prefill new sequences -> one batched decode step.
#include "runtime/scheduler.h"

#include <algorithm>

#include "core/error.h"
#include "core/sha256.h"
#include "core/timer.h"

namespace pocket {

// ---- GenRequest -------------------------------------------------------------------------

bool GenRequest::wait(std::string& out, int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  if (text_.empty() && !done_) cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !text_.empty() || done_; });
  out += text_;
  text_.clear();
  return done_;
}

bool GenRequest::finished() const {
  std::lock_guard<std::mutex> lk(mu_);
  return done_;
}

std::string GenRequest::finish_reason() const {
  std::lock_guard<std::mutex> lk(mu_);
  return finish_reason_;
}

std::string GenRequest::error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

void GenRequest::take_logprobs(std::vector<TokenLogprob>& out) {
  std::lock_guard<std::mutex> lk(mu_);
  for (TokenLogprob& t : logprobs_) out.push_back(std::move(t));
  logprobs_.clear();
}

void GenRequest::push_text(std::string_view s) {
  if (s.empty()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_ += s;
  }
  cv_.notify_all();
}

void GenRequest::finish(FinishReason why, const std::string& error) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = true;
    // OpenAI's names: an end of generation, a stop string or a closed JSON object is "stop".
    finish_reason_ = why == FinishReason::Eog || why == FinishReason::Stop ? "stop"
                     : why == FinishReason::Context                        ? "length"
                                                                           : finish_reason_name(why);
    error_ = error;
  }
  cv_.notify_all();
}

// ---- Scheduler --------------------------------------------------------------------------

// Prompt caching: a slot keeps its KV after a request, with a key per position it holds (the
// token id, or for an image row a hash of the row's values, so two images behind the same
// placeholder token never match). A new request goes to the free slot whose keys share the
// longest prefix with its prompt, and prefills only the rest (at least its last token, whose
// logits start the generation). A prefix that another slot holds (a running sequence, or the
// sibling choices of an n > 1 request, prefilled in admission order) is copied from that
// slot's KV instead of being recomputed.
struct Scheduler::Slot {
  explicit Slot(const Engine& e) : gen(e) {}
  int index = 0;
  KvCache kv;
  std::vector<uint64_t> keys;       // [pos] what the KV holds (reserved to n_ctx)
  std::vector<uint64_t> want;       // the admitted request's prompt keys
  std::shared_ptr<GenRequest> req;
  Generation gen;
  bool prefilled = false;
  uint64_t admitted = 0;  // admission order: earlier requests are prefilled first
  int64_t pos = 0;     // KV positions filled
  int32_t last = 0;    // token to decode next
  double t_last = 0;
  std::string out;     // text released by the last token (reserved; no allocation per token)
};

Scheduler::Scheduler(Engine& engine, const SchedulerOptions& opt) : engine_(engine), opt_(opt) {
  const TextHParams& hp = engine.hparams();
  POCKET_CHECK(opt.n_parallel >= 1 && opt.n_parallel <= 256, "--parallel must be in [1, 256]");
  n_ctx_ = context_size(hp, opt.n_ctx);
  opt_.n_batch = std::clamp<int64_t>(opt.n_batch, 1, n_ctx_);
  for (int i = 0; i < opt.n_parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>(engine));
    slots_.back()->index = i;
    slots_.back()->kv.allocate(hp, n_ctx_);
    slots_.back()->keys.reserve(static_cast<size_t>(n_ctx_) + 1);
    slots_.back()->out.reserve(1024);
  }
  const int64_t rows = opt.n_parallel;
  prefill_act_.allocate(hp, opt_.n_batch, 1);
  step_act_.allocate(hp, rows, rows);
  rows_.resize(static_cast<size_t>(rows));
  row_slot_.resize(static_cast<size_t>(rows));
  order_.reserve(slots_.size());
  kvs_.resize(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) kvs_[i] = &slots_[i]->kv;
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

bool Scheduler::submit(const std::shared_ptr<GenRequest>& r) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) return false;
    if (static_cast<int>(queue_.size()) >= opt_.max_queue) return false;
    r->t_submit_ = now_seconds();
    r->text_.reserve(4096);  // taken by the caller as it goes; sized so appends do not reallocate
    queue_.push_back(r);
    queued_ = static_cast<int>(queue_.size());
  }
  cv_.notify_all();
  return true;
}

void Scheduler::cancel_all() {
  std::deque<std::shared_ptr<GenRequest>> dropped;
  {
    std::lock_guard<std::mutex> lk(mu_);
    dropped.swap(queue_);
    queued_ = 0;
    for (auto& s : slots_)
      if (s->req) s->req->cancel = true;
  }
  for (auto& r : dropped) r->finish(FinishReason::Cancelled);
  cv_.notify_all();
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cancel_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::finish(Slot& s, FinishReason why, const std::string& error) {
  s.out.clear();
  s.gen.finish(why, s.out);
  s.req->push_text(s.out);
  std::shared_ptr<GenRequest> r = std::move(s.req);
  --active_;  // before the waiter wakes, so it sees the slot free
  r->finish(why, error);
}

// Accounts for a chosen token; may finish the request.
void Scheduler::emit(Slot& s, int32_t id) {
  GenRequest& r = *s.req;
  const double now = now_seconds();
  if (s.gen.n_generated() == 0) {
    r.ttft_ = now - r.t_submit_;
    if (opt_.on_first_token) opt_.on_first_token(now - r.t_submit_);
  } else if (opt_.on_token) {
    opt_.on_token(now - s.t_last);
  }
  s.t_last = now;
  s.out.clear();
  const FinishReason why = s.gen.accept(id, s.pos, s.out);
  if (s.gen.params().top_logprobs >= 0) {
    std::lock_guard<std::mutex> lk(r.mu_);
    s.gen.take_logprobs(r.logprobs_);  // before the text, so a reader that sees the text sees these
  }
  r.n_generated_ = s.gen.n_generated();
  r.n_reasoning_ = s.gen.n_reasoning();
  r.push_text(s.out);
  s.last = id;
  if (why != FinishReason::None) finish(s, why);
}

std::vector<uint64_t> Scheduler::keys_of(const GenRequest& r) const {
  const size_t d = static_cast<size_t>(engine_.hparams().d_model);
  std::vector<uint64_t> k(r.prompt.size());
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<uint32_t>(r.prompt[i]);
    if (i < r.embd.size() && r.embd[i]) {
      const std::string h = sha256_hex(std::string_view(reinterpret_cast<const char*>(r.embd[i]), d * sizeof(float)));
      k[i] = (std::stoull(h.substr(0, 15), nullptr, 16) << 1) | (uint64_t{1} << 63);  // never a token id
    }
  }
  return k;
}

namespace {
size_t common_prefix(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}
}  // namespace

// Queued requests into free slots (under the lock): each to the free slot whose kept KV shares
// the longest prefix with its prompt.
void Scheduler::admit() {
  while (!queue_.empty()) {
    if (std::all_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->req != nullptr; })) break;
    Slot* best = nullptr;
    size_t best_n = 0;
    std::vector<uint64_t> want = keys_of(*queue_.front());
    for (auto& s : slots_) {
      if (s->req) continue;
      const size_t n = common_prefix(s->keys, want);
      if (!best || n > best_n) best = s.get(), best_n = n;
    }
    if (!best) break;
    best->req = std::move(queue_.front());
    queue_.pop_front();
    ++active_;
    best->admitted = ++admissions_;
    best->prefilled = false;
    best->pos = 0;
    best->want = std::move(want);
  }
  queued_ = static_cast<int>(queue_.size());
}

// Cancellations, then the prefill and first token of newly admitted sequences, in admission
// order (a request's prompt may then come from one admitted before it).
void Scheduler::prefill_new() {
  order_.clear();
  for (auto& sp : slots_)
    if (sp->req) order_.push_back(sp.get());
  std::sort(order_.begin(), order_.end(), [](const Slot* a, const Slot* b) { return a->admitted < b->admitted; });
  for (Slot* sp : order_) {
    Slot& s = *sp;
    if (s.req->cancel.load()) {
      finish(s, FinishReason::Cancelled);
      continue;
    }
    if (s.prefilled) continue;
    GenRequest& r = *s.req;
    try {
      check_prompt_fits(r.prompt.size(), n_ctx_);
      POCKET_CHECK(r.embd.empty() || r.embd.size() == r.prompt.size(), "embedding rows do not match the prompt");
      s.gen.start(r.prompt, r.params, n_ctx_);
      const int64_t n = static_cast<int64_t>(r.prompt.size());
      // A longer prefix in another slot's KV (its keys describe what it holds) is copied.
      size_t own = common_prefix(s.keys, s.want);
      const Slot* donor = nullptr;
      for (auto& o : slots_) {
        const size_t m = o.get() == &s ? 0 : common_prefix(o->keys, s.want);
        if (m > own) own = m, donor = o.get();
      }
      // The kept prefix, less at least the last prompt token (its logits are needed).
      const int64_t keep = std::min<int64_t>(static_cast<int64_t>(own), n - 1);
      if (donor) {
        s.kv.copy_prefix(donor->kv, keep);
        s.keys.assign(donor->keys.begin(), donor->keys.begin() + keep);
      }
      s.keys.resize(static_cast<size_t>(keep));  // positions past it are overwritten
      const float* logits = prefill(engine_, r.prompt.data() + keep, r.embd.empty() ? nullptr : r.embd.data() + keep,
                                    n - keep, keep, opt_.n_batch, s.kv, prefill_act_, engine_.pool());
      s.keys.assign(s.want.begin(), s.want.end());
      r.n_cached_ = keep;
      cached_total_ += static_cast<uint64_t>(keep);
      prefilled_total_ += static_cast<uint64_t>(n - keep);
      s.pos = n;
      s.prefilled = true;
      if (r.params.max_tokens == 0) {
        finish(s, FinishReason::Length);
        continue;
      }
      emit(s, s.gen.choose(logits));
    } catch (const std::exception& e) {
      finish(s, FinishReason::Error, e.what());
    }
  }
}

void Scheduler::loop() {
  const DecoderModel& model = engine_.model();
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || active_.load() > 0; });
      if (stopping_ && active_.load() == 0) break;
      admit();
    }
    prefill_new();
    // One batched decode step over every running sequence.
    int64_t n = 0, cells = 0;
    for (auto& sp : slots_) {
      Slot& s = *sp;
      if (!s.req || !s.prefilled) continue;
      rows_[n] = {s.last, s.pos, s.index};
      row_slot_[n] = &s;
      ++n;
    }
    if (n == 0) {
      kv_cells_ = 0;
      continue;
    }
    try {
      model.forward_multi(rows_.data(), n, kvs_.data(), step_act_, engine_.pool());
    } catch (const std::exception& e) {
      for (int64_t i = 0; i < n; ++i) finish(*row_slot_[i], FinishReason::Error, e.what());
      continue;
    }
    ++steps_;
    rows_total_ += static_cast<uint64_t>(n);
    const int64_t nv = engine_.hparams().n_vocab;
    for (int64_t i = 0; i < n; ++i) {
      Slot& s = *row_slot_[i];
      if (s.keys.size() == static_cast<size_t>(s.pos)) s.keys.push_back(static_cast<uint32_t>(s.last));  // its KV is written
      s.pos += 1;
      if (s.req->cancel.load()) {
        finish(s, FinishReason::Cancelled);
        continue;
      }
      emit(s, s.gen.choose(step_act_.logits.data() + i * nv));
    }
    for (auto& sp : slots_)
      if (sp->req) cells += sp->pos;
    kv_cells_ = cells;
  }
}

}  // namespace pocket
