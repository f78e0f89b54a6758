// The continuous-batching loop: admit -> prefill new sequences -> one batched decode step.
#include "runtime/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "core/error.h"
#include "core/timer.h"
#include "runtime/json_constraint.h"

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

void GenRequest::push_text(std::string_view s) {
  if (s.empty()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_ += s;
  }
  cv_.notify_all();
}

void GenRequest::finish(const std::string& reason, const std::string& error) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = true;
    finish_reason_ = reason;
    error_ = error;
  }
  cv_.notify_all();
}

// ---- sampling ---------------------------------------------------------------------------

namespace {

struct Prob {
  float p;
  int32_t id;
};

// Temperature + nucleus sampling (the two knobs of OpenAI's API), in the order OpenAI-style
// servers and transformers' warpers apply them: temperature first, then top-p on the
// tempered distribution (Sampler follows llama.cpp's chain, top-p before temperature).
// Only the prefix holding top_p of the mass is sorted, grown geometrically.
int32_t sample_nucleus(const float* logits, int32_t n, float temp, float top_p, std::mt19937_64& rng,
                       std::vector<Prob>& c) {
  float mx = logits[0];
  for (int32_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) {
    const float p = std::exp((logits[i] - mx) / temp);
    c[i] = {p, i};
    sum += p;
  }
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (top_p >= 1.0f) {
    const double r = u(rng) * sum;
    double cum = 0;
    for (int32_t i = 0; i < n; ++i) {
      cum += c[i].p;
      if (r < cum) return c[i].id;
    }
    return n - 1;
  }
  auto by_p = [](const Prob& a, const Prob& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };
  size_t k = 64, keep = 0;
  double cum = 0;
  for (;;) {
    k = std::min<size_t>(k, static_cast<size_t>(n));
    std::partial_sort(c.begin(), c.begin() + static_cast<long>(k), c.begin() + n, by_p);
    cum = 0;
    keep = 0;
    while (keep < k && cum < top_p * sum) cum += c[keep++].p;
    if (cum >= top_p * sum || k == static_cast<size_t>(n)) break;
    k *= 4;
  }
  const double r = u(rng) * cum;
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += c[i].p;
    if (r < acc) return c[i].id;
  }
  return c[keep - 1].id;
}

}  // namespace

// ---- Scheduler --------------------------------------------------------------------------

struct Scheduler::Slot {
  int index = 0;
  KvCache kv;
  std::shared_ptr<GenRequest> req;
  bool prefilled = false;
  std::optional<Sampler> sampler;       // penalties / top-k / min-p requests
  std::mt19937_64 rng;                   // temperature + top-p requests
  std::vector<Prob> probs;               // [n_vocab]
  std::string utf8;                      // token bytes not yet complete UTF-8 characters
  bool started = false;                  // a first piece was produced (leading-space rule)
  std::vector<int32_t> history;
  std::vector<float> masked;             // logits copy for constrained sampling
  std::optional<JsonObjectPrefix> json;
  std::vector<std::vector<int32_t>> choice_toks;  // GenRequest::choices, tokenized
  std::vector<uint8_t> choice_alive;     // [choices] still matching the tokens chosen so far
  size_t choice_pos = 0;                 // tokens of the choice emitted so far
  bool in_choice = false;                // still choosing one of the choices
  bool choice_token = false;             // the token being emitted belongs to the choice
  std::vector<int32_t> forced;           // tokens to emit before sampling again
  size_t forced_next = 0;
  std::string pending;                   // text held back while it may begin a stop string
  int64_t pos = 0;
  int64_t n_gen = 0;
  int32_t last = 0;
  double t_last = 0;
};

Scheduler::Scheduler(Engine& engine, const SchedulerOptions& opt) : engine_(engine), opt_(opt) {
  const TextHParams& hp = engine.hparams();
  POCKET_CHECK(opt.n_parallel >= 1 && opt.n_parallel <= 256, "--parallel must be in [1, 256]");
  n_ctx_ = opt.n_ctx > 0 ? opt.n_ctx : hp.n_ctx_train;
  if (hp.n_ctx_train > 0) n_ctx_ = std::min(n_ctx_, hp.n_ctx_train);
  POCKET_CHECK(n_ctx_ > 1, "invalid context size {}", n_ctx_);
  opt_.n_batch = std::clamp<int64_t>(opt.n_batch, 1, n_ctx_);
  for (int i = 0; i < opt.n_parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->index = i;
    slots_.back()->kv.allocate(hp, n_ctx_);
  }
  const int64_t rows = opt.n_parallel;
  prefill_act_.allocate(hp, opt_.n_batch, 1);
  step_act_.allocate(hp, rows, rows);
  rows_.resize(static_cast<size_t>(rows));
  row_slot_.resize(static_cast<size_t>(rows));
  kvs_.resize(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) kvs_[i] = &slots_[i]->kv;
  const Tokenizer& tok = engine.tokenizer();
  // Token bytes, looked up per generated token: Tokenizer::stream_piece builds strings per
  // call, which would be the decode loop's only allocations.
  pieces_.resize(static_cast<size_t>(hp.n_vocab));
  kind_.resize(static_cast<size_t>(hp.n_vocab));
  for (int32_t id = 0; id < hp.n_vocab; ++id) {
    const TokenAttr a = tok.token_attr(id);
    pieces_[id] = tok.stream_piece(id, false);
    kind_[id] = a == TokenAttr::Normal || a == TokenAttr::Byte ? 0 : (a == TokenAttr::Control ? 2 : 1);
  }
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
  for (auto& r : dropped) r->finish("cancelled");
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

void Scheduler::start_request(Slot& s) {
  GenRequest& r = *s.req;
  SamplerParams sp = r.sampling;
  const int32_t nv = static_cast<int32_t>(engine_.hparams().n_vocab);
  s.sampler.reset();
  if (sp.temperature > 0 && (sp.top_k > 0 || sp.min_p > 0 || sp.repeat_penalty != 1.0f)) {
    s.sampler.emplace(sp, nv);
  }
  if (sp.temperature > 0) {
    s.rng.seed(sp.seed == 0xFFFFFFFFull ? std::random_device{}() : sp.seed);
    s.probs.resize(static_cast<size_t>(nv));
  }
  s.utf8.clear();
  s.utf8.reserve(64);
  s.pending.reserve(1024);
  s.started = false;
  s.history = r.prompt;
  s.history.reserve(r.prompt.size() + static_cast<size_t>(std::max<int64_t>(0, r.max_tokens)) + 1);
  s.json.reset();
  if (r.json_object) {
    s.json.emplace();
    s.masked.resize(static_cast<size_t>(engine_.hparams().n_vocab));
  }
  s.forced.clear();
  s.forced_next = 0;
  s.choice_toks.clear();
  for (const std::string& c : r.choices) {
    s.choice_toks.push_back(engine_.tokenizer().encode(c, false, true));
    if (s.choice_toks.back().empty()) s.choice_toks.pop_back();
  }
  s.choice_alive.assign(s.choice_toks.size(), 1);
  s.choice_pos = 0;
  s.in_choice = !s.choice_toks.empty();
  s.choice_token = false;
  s.pending.clear();
  s.pos = 0;
  s.n_gen = 0;
  s.prefilled = false;
}

void Scheduler::flush_text(Slot& s, bool final) {
  GenRequest& r = *s.req;
  if (r.stop.empty() || final) {
    r.push_text(s.pending);
    s.pending.clear();
    return;
  }
  // Hold back the longest tail that may still grow into a stop string.
  size_t keep = 0;
  for (const std::string& stop : r.stop) {
    for (size_t n = std::min(stop.size() - 1, s.pending.size()); n > keep; --n) {
      if (s.pending.compare(s.pending.size() - n, n, stop, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  r.push_text(std::string_view(s.pending).substr(0, s.pending.size() - keep));
  s.pending.erase(0, s.pending.size() - keep);
}

// Moves the complete UTF-8 characters of s.utf8 to s.pending; a character whose bytes may
// still come with the next token is held back (all of it at the end), invalid bytes become
// U+FFFD, as StreamDecoder does.
void Scheduler::flush_utf8(Slot& s, bool final) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  const std::string& u = s.utf8;
  size_t i = 0;
  while (i < u.size()) {
    const auto b = static_cast<unsigned char>(u[i]);
    const size_t need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 && b >= 0xC2 ? 2 : (b & 0xF0) == 0xE0 ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (need == 0) {
      s.pending += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    while (k < need && i + k < u.size() && (static_cast<unsigned char>(u[i + k]) & 0xC0) == 0x80) ++k;
    if (k == need) {
      s.pending.append(u, i, need);
      i += need;
    } else if (i + k == u.size() && !final) {
      break;  // a valid prefix: wait for the rest
    } else {
      s.pending += kReplacement;
      i += k;
    }
  }
  s.utf8.erase(0, i);
}

void Scheduler::finish(Slot& s, const std::string& reason, const std::string& error) {
  flush_utf8(s, true);
  if (reason != "cancelled" && reason != "error") flush_text(s, true);
  std::shared_ptr<GenRequest> r = std::move(s.req);
  s.sampler.reset();
  --active_;  // before the waiter wakes, so it sees the slot free
  r->finish(reason, error);
}

// Greedy, the full Sampler chain, or temperature + top-p.
int32_t Scheduler::sample(Slot& s, const float* logits) {
  const int32_t nv = static_cast<int32_t>(engine_.hparams().n_vocab);
  const SamplerParams& sp = s.req->sampling;
  if (sp.temperature <= 0) return argmax(logits, nv);
  if (s.sampler) return s.sampler->sample(logits, s.history);
  return sample_nucleus(logits, nv, sp.temperature, sp.top_p, s.rng, s.probs);
}

// One token of a choice: a walk down the choices' token sequences, taking at each position
// the model's best-scoring (or, with a temperature, a sampled) token among those the still
// matching choices continue with.
int32_t Scheduler::choose_choice(Slot& s, const float* logits) {
  const SamplerParams& sp = s.req->sampling;
  int32_t best = -1;
  double total = 0, pick = -1;
  if (sp.temperature > 0) pick = std::uniform_real_distribution<double>(0.0, 1.0)(s.rng);
  // Greedy: argmax; sampled: draw in proportion to exp(logit / T) over the distinct tokens.
  float mx = -std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < s.choice_toks.size(); ++c)
    if (s.choice_alive[c]) mx = std::max(mx, logits[s.choice_toks[c][s.choice_pos]]);
  for (int pass = 0; pass < (pick >= 0 ? 2 : 1) && best < 0; ++pass) {
    double acc = 0;
    for (size_t c = 0; c < s.choice_toks.size(); ++c) {
      if (!s.choice_alive[c]) continue;
      const int32_t t = s.choice_toks[c][s.choice_pos];
      bool seen = false;
      for (size_t e = 0; e < c && !seen; ++e) seen = s.choice_alive[e] && s.choice_toks[e][s.choice_pos] == t;
      if (seen) continue;
      if (pick < 0) {
        if (best < 0 || logits[t] > logits[best]) best = t;
        continue;
      }
      const double w = std::exp((logits[t] - mx) / sp.temperature);
      if (pass == 0) {
        total += w;
      } else if ((acc += w) >= pick * total) {
        best = t;
        break;
      }
    }
  }
  if (best < 0) best = s.choice_toks[0][s.choice_pos];
  bool done = false;
  for (size_t c = 0; c < s.choice_toks.size(); ++c) {
    if (!s.choice_alive[c]) continue;
    if (s.choice_toks[c][s.choice_pos] != best) s.choice_alive[c] = 0;
    else if (s.choice_toks[c].size() == s.choice_pos + 1) done = true;
  }
  ++s.choice_pos;
  if (done) s.in_choice = false;
  s.choice_token = true;
  return best;
}

// Next token: forced closing text first, then a choice, then sampling, constrained to JSON
// when asked.
int32_t Scheduler::choose(Slot& s, const float* logits) {
  s.choice_token = false;
  if (s.forced_next < s.forced.size()) return s.forced[s.forced_next++];
  if (s.in_choice) return choose_choice(s, logits);
  if (!s.json) return sample(s, logits);
  const Tokenizer& tok = engine_.tokenizer();
  const int64_t left = s.req->max_tokens - s.n_gen;
  std::string suffix = s.json->closing_suffix();
  if (left <= static_cast<int64_t>(suffix.size()) + 1) {
    s.forced = tok.encode(suffix, false, false);
    s.forced_next = 0;
    if (!s.forced.empty()) return s.forced[s.forced_next++];
  }
  const int32_t nv = static_cast<int32_t>(engine_.hparams().n_vocab);
  std::copy(logits, logits + nv, s.masked.begin());
  // Try the sampler's choices best-first, masking each one the object cannot continue with
  // (for greedy this is the highest-scoring valid token).
  for (int tries = 0; tries < 128; ++tries) {
    const int32_t id = sample(s, s.masked.data());
    if (id < 0 || id >= nv) break;
    JsonObjectPrefix trial = *s.json;
    if (kind_[id] == 0 && !pieces_[id].empty() && trial.push(pieces_[id])) return id;
    s.masked[id] = -std::numeric_limits<float>::infinity();
  }
  s.forced = tok.encode(suffix, false, false);
  s.forced_next = 0;
  return s.forced.empty() ? tok.eos_id() : s.forced[s.forced_next++];
}

// Accounts for a chosen token; may finish the request.
void Scheduler::emit(Slot& s, int32_t id) {
  GenRequest& r = *s.req;
  const Tokenizer& tok = engine_.tokenizer();
  const double now = now_seconds();
  if (s.n_gen == 0) {
    r.ttft_ = now - r.t_submit_;
    if (opt_.on_first_token) opt_.on_first_token(now - r.t_submit_);
  } else if (opt_.on_token) {
    opt_.on_token(now - s.t_last);
  }
  s.t_last = now;
  const bool forced = s.forced_next > 0 && s.forced_next <= s.forced.size() && s.forced[s.forced_next - 1] == id;
  if (!forced && tok.is_eog(id)) {
    finish(s, "stop");
    return;
  }
  ++s.n_gen;
  r.n_generated_ = s.n_gen;
  s.history.push_back(id);
  s.last = id;
  // Control tokens print nothing (as `pocket run` without --special) unless the tool-call
  // parser needs their text ([TOOL_CALLS], ...).
  if (kind_[id] != 2 || r.keep_control_text) {
    if (!s.started) {
      // ref: StreamDecoder: the first piece follows decode()'s leading-space rule.
      s.utf8 += engine_.tokenizer().stream_piece(id, true);
      s.started = !s.utf8.empty();
    } else {
      s.utf8 += pieces_[id];
    }
  }
  const size_t before = s.pending.size();
  flush_utf8(s, false);
  if (s.json && !s.choice_token) s.json->push(std::string_view(s.pending).substr(before));
  for (const std::string& stop : r.stop) {
    const size_t at = s.pending.find(stop);
    if (at != std::string::npos) {
      s.pending.resize(at);
      s.utf8.clear();
      finish(s, "stop");
      return;
    }
  }
  flush_text(s, false);
  if (s.json && s.json->done()) {
    s.pending += r.suffix_text;
    finish(s, "stop");
    return;
  }
  if (s.n_gen >= r.max_tokens || s.pos >= n_ctx_) finish(s, "length");
}

void Scheduler::loop() {
  const DecoderModel& model = engine_.model();
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || active_.load() > 0; });
      if (stopping_ && active_.load() == 0) break;
      for (auto& s : slots_) {
        if (s->req || queue_.empty()) continue;
        s->req = std::move(queue_.front());
        queue_.pop_front();
        ++active_;
        start_request(*s);
      }
      queued_ = static_cast<int>(queue_.size());
    }
    // Cancellations, then prefill of newly admitted sequences.
    for (auto& sp : slots_) {
      Slot& s = *sp;
      if (!s.req) continue;
      if (s.req->cancel.load()) {
        finish(s, "cancelled");
        continue;
      }
      if (s.prefilled) continue;
      GenRequest& r = *s.req;
      try {
        POCKET_CHECK(!r.prompt.empty(), "the prompt is empty");
        POCKET_CHECK(static_cast<int64_t>(r.prompt.size()) < n_ctx_, "prompt ({} tokens) does not fit the context ({})",
                     r.prompt.size(), n_ctx_);
        POCKET_CHECK(r.embd.empty() || r.embd.size() == r.prompt.size(), "embedding rows do not match the prompt");
        const int64_t n = static_cast<int64_t>(r.prompt.size());
        for (int64_t i = 0; i < n; i += opt_.n_batch) {
          DecoderBatch b;
          b.tokens = r.prompt.data() + i;
          b.embd = r.embd.empty() ? nullptr : r.embd.data() + i;
          b.n = std::min(opt_.n_batch, n - i);
          b.pos0 = i;
          b.n_logits = i + b.n == n ? 1 : 0;
          model.forward(b, s.kv, prefill_act_, engine_.pool());
        }
        s.pos = n;
        s.prefilled = true;
        if (r.max_tokens <= 0) {
          finish(s, "length");
          continue;
        }
        emit(s, choose(s, prefill_act_.logits.data()));
      } catch (const std::exception& e) {
        finish(s, "error", e.what());
      }
    }
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
      for (int64_t i = 0; i < n; ++i) finish(*row_slot_[i], "error", e.what());
      continue;
    }
    ++steps_;
    rows_total_ += static_cast<uint64_t>(n);
    const int64_t nv = engine_.hparams().n_vocab;
    for (int64_t i = 0; i < n; ++i) {
      Slot& s = *row_slot_[i];
      s.pos += 1;
      if (s.req->cancel.load()) {
        finish(s, "cancelled");
        continue;
      }
      emit(s, choose(s, step_act_.logits.data() + i * nv));
    }
    for (auto& sp : slots_)
      if (sp->req) cells += sp->pos;
    kv_cells_ = cells;
  }
}

}  // namespace pocket
