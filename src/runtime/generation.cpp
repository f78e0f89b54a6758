// Generation: token choice, streaming text, stop strings and limits for one sequence.
#include "runtime/generation.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "runtime/engine.h"
#include "sampling/json_schema.h"

namespace pocket {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::None: return "none";
    case FinishReason::Eog: return "eog";
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::Context: return "context";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "none";
}

Generation::Generation(const Engine& engine)
    : tok_(engine.tokenizer()),
      pieces_(engine.token_pieces()),
      sampler_(SamplerParams{}, static_cast<int32_t>(engine.hparams().n_vocab)) {}

void Generation::start(const std::vector<int32_t>& prompt, const GenerationParams& p, int64_t n_ctx) {
  p_ = p;
  n_ctx_ = n_ctx;
  n_gen_ = 0;
  sampler_.reset(p.sampling);
  std::vector<int32_t> keep;
  for (const std::string& t : p.keep_control)
    if (const auto id = tok_.token_id(t)) keep.push_back(*id);
  ends_thinking_ = keep;  // a tool-call marker while thinking: the call is the answer's
  think_open_id_ = think_close_id_ = -1;
  if (!p.think_open.empty()) {
    const auto open = tok_.token_id(p.think_open), close = tok_.token_id(p.think_close);
    POCKET_CHECK(open && close, "the thinking markers '{}' / '{}' are not single tokens of this vocabulary", p.think_open,
                 p.think_close);
    think_open_id_ = *open;
    think_close_id_ = *close;
    keep.push_back(think_open_id_);
    keep.push_back(think_close_id_);
  }
  thinking_ = reply_starts_thinking(p, prompt, tok_);
  n_think_ = n_think_total_ = 0;
  std::sort(keep.begin(), keep.end());
  stream_.emplace(tok_, !p.print_control, &pieces_, std::move(keep));
  choice_.reset();
  choice_seqs_.clear();
  for (const std::string& c : p.choices) choice_seqs_.push_back(tok_.encode(c, false, true));
  trigger_id_ = -1;
  in_call_ = false;
  calls_done_ = 0;
  if (!p.tool_trigger.empty()) {
    const auto id = tok_.token_id(p.tool_trigger);
    POCKET_CHECK(id.has_value(), "the tool-call marker '{}' is not one token of this vocabulary", p.tool_trigger);
    trigger_id_ = *id;
    ends_thinking_.push_back(trigger_id_);
  } else if (!choice_seqs_.empty()) {
    choice_.emplace(choice_seqs_);
  }
  json_.reset();
  if (trigger_id_ < 0 && (p.grammar || p.json_object)) constrain_json(p.grammar);  // null: any JSON object
  history_ = prompt;
  history_.reserve(prompt.size() + static_cast<size_t>(p.max_tokens < 0 ? n_ctx : p.max_tokens) + 1);
  forced_.clear();
  forced_next_ = 0;
  last_forced_ = false;
  pending_.clear();
  pending_.reserve(1024);
}

bool reply_starts_thinking(const GenerationParams& p, const std::vector<int32_t>& prompt, const Tokenizer& tok) {
  if (p.think_open.empty() || p.grammar || p.json_object || (!p.choices.empty() && p.tool_trigger.empty())) return false;
  const auto open = tok.token_id(p.think_open), close = tok.token_id(p.think_close);
  if (!open || !close) return false;
  std::vector<int32_t> ends;
  for (const std::string& t : p.keep_control)
    if (const auto id = tok.token_id(t)) ends.push_back(*id);
  if (const auto id = p.tool_trigger.empty() ? std::nullopt : tok.token_id(p.tool_trigger)) ends.push_back(*id);
  for (auto it = prompt.rbegin(); it != prompt.rend(); ++it) {
    if (*it == *open) return true;
    if (*it == *close || std::find(ends.begin(), ends.end(), *it) != ends.end()) return false;
  }
  return false;
}

void Generation::constrain_json(std::shared_ptr<const Grammar> g) {
  if (!vocab_order_) {
    vocab_order_.emplace(pieces_, sampler_.n_vocab());
    for (int32_t id = 0; id < sampler_.n_vocab(); ++id)
      if (tok_.is_eog(id)) eog_.push_back(id);
  }
  json_.emplace(pieces_, *vocab_order_, g ? std::move(g) : json_object_grammar(), eog_);
}

void check_constraint_budget(const GenerationParams& p, const Tokenizer& tok) {
  if (p.max_tokens < 0 || (!p.grammar && !p.json_object)) return;
  const Grammar& g = p.grammar ? *p.grammar : *json_object_grammar();
  const std::string& shortest = g.min_text[g.root];
  const int64_t need = static_cast<int64_t>(tok.encode(shortest, false, false).size());
  POCKET_CHECK(p.max_tokens >= need, "max_tokens {} is below the {} tokens of the shortest JSON the schema allows ({})",
               p.max_tokens, need, shortest.size() > 80 ? shortest.substr(0, 80) + "..." : shortest);
}

LogitProcessor* Generation::constraint() {
  if (choice_ && choice_->active()) return &*choice_;
  if (json_ && json_->active()) return &*json_;
  return nullptr;
}

int32_t Generation::choose(const float* logits) {
  last_forced_ = false;
  last_logits_ = logits;
  auto force = [&](const std::string& text) {
    forced_ = tok_.encode(text, false, false);
    forced_next_ = 0;
    return !forced_.empty();
  };
  if (forced_next_ < forced_.size()) {
    last_forced_ = true;
    return forced_[forced_next_++];
  }
  LogitProcessor* c = constraint();
  if (thinking_ && !c && p_.max_reasoning_tokens >= 0 && n_think_ >= p_.max_reasoning_tokens) {
    last_forced_ = true;  // the thinking budget is spent: the block closes
    return think_close_id_;
  }
  if (!c) return sampler_.sample(logits, history_);
  const bool json = json_ && c == &*json_;
  // Near the budget the text is closed: the shortest completion is forced once the tokens left
  // are one more than its bytes (a token has at least one byte). Until then, close to the end,
  // a candidate may only leave a completion that still fits after it, so the forced text never
  // outruns the budget. Farther out a single token would have to lengthen the completion by
  // kBudgetSlack bytes, and the check is skipped (it costs a completion per candidate).
  if (json && p_.max_tokens >= 0) {
    constexpr int64_t kBudgetSlack = 256;
    const std::string suffix = json_->closing_suffix();
    const int64_t left = p_.max_tokens - n_gen_, bytes = static_cast<int64_t>(suffix.size());
    if (left <= bytes + 1 && force(suffix)) {
      last_forced_ = true;
      return forced_[forced_next_++];
    }
    const int64_t room = std::max<int64_t>(left - 2, 0);  // completion bytes allowed after this token
    json_->set_budget(room < bytes + kBudgetSlack ? static_cast<size_t>(room) : GrammarConstraint::kNoBudget);
  }
  const int32_t id = sampler_.sample(logits, history_, c);
  if (id >= 0) return id;
  // No allowed token among the sampler's choices: close the object (or end), or take the
  // first token a choice continues with.
  if (!json) return c->allowed_list()->front();
  if (force(json_->closing_suffix())) {
    last_forced_ = true;
    return forced_[forced_next_++];
  }
  return tok_.eos_id();
}

FinishReason Generation::accept(int32_t id, int64_t pos, std::string& out) {
  if (!last_forced_ && p_.stop_at_eog && tok_.is_eog(id)) return FinishReason::Eog;
  if (p_.top_logprobs >= 0 && last_logits_) record_logprob(id);
  ++n_gen_;
  history_.push_back(id);
  if (think_open_id_ >= 0) {
    if (id == think_close_id_ ||
        (thinking_ && std::find(ends_thinking_.begin(), ends_thinking_.end(), id) != ends_thinking_.end())) {
      thinking_ = false;
    } else if (thinking_) {
      ++n_think_;
      ++n_think_total_;
    } else if (id == think_open_id_) {
      thinking_ = true;
      n_think_ = 0;
    }
  }
  if (choice_ && choice_->active()) {
    choice_->accept(id);
    // A tool was chosen: its arguments' grammar from here.
    if (!choice_->active() && choice_->matched() >= 0 && !p_.choice_grammars.empty())
      constrain_json(p_.choice_grammars[static_cast<size_t>(choice_->matched())]);
    else if (!choice_->active() && in_call_ && !json_)
      constrain_json(nullptr);
  } else if (json_) {
    json_->accept(id);
  } else if (id == trigger_id_) {  // the model opens a call: hold it to the tools' names, then schemas
    in_call_ = true;
    choice_.emplace(choice_seqs_);
  }
  stream_->push(id, pending_);
  for (const std::string& stop : p_.stop) {
    const size_t at = pending_.find(stop);
    if (at != std::string::npos) {
      pending_.resize(at);
      stream_.reset();  // bytes still held for a split character come after the stop string
      return FinishReason::Stop;
    }
  }
  if (json_ && json_->done()) {
    // The constrained text ends the reply, unless it was a triggered call's arguments: then free
    // text (or another call) follows, up to max_tool_calls calls.
    const bool ends = !in_call_ || (p_.max_tool_calls > 0 && ++calls_done_ >= p_.max_tool_calls);
    if (in_call_) {
      in_call_ = false;
      json_.reset();
      choice_.reset();
    }
    if (ends) {
      pending_ += p_.json_suffix;
      return FinishReason::Stop;
    }
  }
  release(out, false);
  if (p_.max_tokens >= 0 && n_gen_ >= p_.max_tokens) return FinishReason::Length;
  if (pos >= n_ctx_) return FinishReason::Context;
  return FinishReason::None;
}

// log p(id) = logit[id] - max - log(sum exp(logit - max)), in double; the alternatives are the
// top_logprobs largest logits (ties by id).
void Generation::record_logprob(int32_t id) {
  const int32_t n = sampler_.n_vocab();
  const float* l = last_logits_;
  double mx = l[0];
  for (int32_t i = 1; i < n; ++i) mx = std::max<double>(mx, l[i]);
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(l[i]) - mx);
  const double log_z = mx + std::log(sum);
  TokenLogprob t;
  t.id = id;
  t.logprob = static_cast<float>(l[id] - log_z);
  const int k = std::min(p_.top_logprobs, n);
  if (k > 0) {
    order_.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = i;
    std::partial_sort(order_.begin(), order_.begin() + k, order_.end(),
                      [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    for (int j = 0; j < k; ++j) t.top.emplace_back(order_[j], static_cast<float>(l[order_[j]] - log_z));
  }
  logprobs_.push_back(std::move(t));
}

void Generation::finish(FinishReason why, std::string& out) {
  if (why == FinishReason::Cancelled || why == FinishReason::Error) return;
  if (stream_) stream_->flush(pending_);
  release(out, true);
}

// Moves pending text to `out`, holding back the longest tail that may still grow into a stop
// string (nothing is held back at the end).
void Generation::release(std::string& out, bool final) {
  size_t keep = 0;
  if (!final) {
    for (const std::string& stop : p_.stop) {
      for (size_t n = std::min(stop.size() - 1, pending_.size()); n > keep; --n) {
        if (pending_.compare(pending_.size() - n, n, stop, 0, n) == 0) {
          keep = n;
          break;
        }
      }
    }
  }
  out.append(pending_, 0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
}

}  // namespace pocket
