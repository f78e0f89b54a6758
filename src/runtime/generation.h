// One sequence's generation: everything between "the model gave logits" and "this text is
// the answer so far", shared by Session::generate (`pocket run`, compare) and the server's
// Scheduler, so both draw the same tokens for the same seed and parameters:
//   choose():  forced tokens (a closing JSON suffix), else the Sampler restricted by the
//              active logit processor (tool-name choice, then the JSON grammar);
//   accept():  end of generation, the UTF-8 streamer (StreamDecoder), stop strings (text
//              that may still grow into one is held back), the JSON text completing, the
//              token budget and the context.
// The caller owns the model and the KV cache; a Generation never runs a forward pass.
// Buffers are sized for the vocabulary at construction: choose/accept do not allocate (a
// grammar's matcher grows its arena with the text, amortized).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sampling/logit_processor.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

class Engine;

struct GenerationParams {
  int64_t max_tokens = 128;          // < 0: until end of generation or the context is full
  SamplerParams sampling;
  std::vector<std::string> stop;     // stop strings (excluded from the text)
  bool stop_at_eog = true;
  bool print_control = false;        // every control token's text is kept (--special)
  std::vector<std::string> keep_control;  // else only these control tokens' text (tool-call markers)
  bool json_object = false;          // constrain the output to one JSON object
  // Constrain the output to this grammar's texts (a compiled JSON Schema); wins over json_object.
  std::shared_ptr<const Grammar> grammar;
  std::string json_suffix;           // appended to the text when that object (or text) completes
  // The output must begin with one of these texts (special tokens parsed), e.g. the names of
  // the tools a forced call may use; the JSON constraint (if set) applies after it.
  std::vector<std::string> choices;
  // With choices: the grammar the text after each choice is held to (a tool's arguments
  // schema; nullptr = any JSON object), replacing `grammar` once a choice is made.
  std::vector<std::shared_ptr<const Grammar>> choice_grammars;
  // Calls the model chooses to make (tool_choice auto, strict tools): each time it writes this
  // control token, `choices` (the tool names) and then that tool's choice_grammars constrain
  // the call, and generation goes on after its arguments. Empty: choices apply from the start.
  std::string tool_trigger;
  // With tool_trigger: generation ends once this many calls are complete (0: no limit), with
  // json_suffix closing the last one (parallel_tool_calls false: 1).
  int max_tool_calls = 0;
  // Reasoning models: the control tokens that open and close a thinking block ("[THINK]",
  // "[/THINK]"; empty: none; chat/reasoning.h). Their text is kept in the output for the
  // splitter. A block holds at most max_reasoning_tokens tokens, then its close is forced
  // (< 0: no limit; 0: closed as soon as it opens). A reply whose prompt leaves a block open
  // (reply_starts_thinking) starts inside it. A tool-call marker (keep_control, tool_trigger) ends the block: the call is the answer's.
  std::string think_open, think_close;
  int64_t max_reasoning_tokens = -1;
  // >= 0: each generated token's log-probability under the model (log-softmax of its logits,
  // before penalties, temperature and constraints) and this many most likely alternatives.
  int top_logprobs = -1;
};

// One generated token's log-probability and the most likely alternatives at its position.
struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // best first
};

// Whether a reply to `prompt` under `p` starts inside a thinking block: p names thinking markers,
// no constraint holds the reply from its first token (JSON, a forced tool call), and the
// prompt's last open marker comes after its last close and after any tool-call marker
// (p.keep_control, p.tool_trigger): a template that opens the block, or pre-writes its beginning.
bool reply_starts_thinking(const GenerationParams& p, const std::vector<int32_t>& prompt, const Tokenizer& tok);

// Refuses (pocket::Error) a max_tokens that cannot hold the shortest text the JSON constraint
// allows: generation could only end in broken JSON.
void check_constraint_budget(const GenerationParams& p, const Tokenizer& tok);

enum class FinishReason { None, Eog, Stop, Length, Context, Cancelled, Error };
// "eog", "stop" (stop string or closed JSON object), "length", "context", "cancelled", "error".
const char* finish_reason_name(FinishReason r);

class Generation {
 public:
  explicit Generation(const Engine& engine);

  // Starts a sequence whose prompt is `prompt`, in a context of n_ctx positions.
  void start(const std::vector<int32_t>& prompt, const GenerationParams& p, int64_t n_ctx);
  // The next token from the logits [n_vocab] of the last position.
  int32_t choose(const float* logits);
  // Accounts for `id` (chosen; it would be decoded at position `pos`), appending the text it
  // releases to `out`. Returns why generation ends now, or FinishReason::None.
  FinishReason accept(int32_t id, int64_t pos, std::string& out);
  // Ends the sequence: the text still held back is appended (unless cancelled or failed).
  void finish(FinishReason why, std::string& out);

  const GenerationParams& params() const { return p_; }
  int64_t n_generated() const { return n_gen_; }
  int64_t n_reasoning() const { return n_think_total_; }  // tokens generated inside thinking blocks
  // Prompt followed by the generated tokens.
  const std::vector<int32_t>& history() const { return history_; }
  // Log-probabilities of the tokens accepted since the last take (params().top_logprobs >= 0).
  void take_logprobs(std::vector<TokenLogprob>& out) {
    for (TokenLogprob& t : logprobs_) out.push_back(std::move(t));
    logprobs_.clear();
  }

 private:
  LogitProcessor* constraint();
  void release(std::string& out, bool final);

  const Tokenizer& tok_;
  const TokenPieces& pieces_;
  GenerationParams p_;
  Sampler sampler_;
  std::optional<StreamDecoder> stream_;
  std::optional<ChoiceConstraint> choice_;
  std::optional<VocabOrder> vocab_order_;  // built on the first grammar-constrained request
  std::vector<int32_t> eog_;
  std::optional<GrammarConstraint> json_;
  void constrain_json(std::shared_ptr<const Grammar> g);
  std::vector<std::vector<int32_t>> choice_seqs_;  // choices, tokenized
  int32_t trigger_id_ = -1;                        // tool_trigger's token
  int32_t think_open_id_ = -1, think_close_id_ = -1;
  bool thinking_ = false;                          // inside a thinking block
  std::vector<int32_t> ends_thinking_;             // tokens that end a block without its close
  int64_t n_think_ = 0, n_think_total_ = 0;        // tokens in this block / in all blocks
  bool in_call_ = false;                           // inside a triggered call
  int calls_done_ = 0;                             // triggered calls completed
  std::vector<int32_t> history_;
  std::vector<int32_t> forced_;      // tokens to emit before sampling again
  size_t forced_next_ = 0;
  bool last_forced_ = false;
  std::string pending_;              // text held back while it may begin a stop string
  const float* last_logits_ = nullptr;  // the logits choose() saw (for logprobs)
  std::vector<TokenLogprob> logprobs_;
  std::vector<int32_t> order_;       // [n_vocab] scratch for the top alternatives
  void record_logprob(int32_t id);
  int64_t n_gen_ = 0, n_ctx_ = 0;
};

}  // namespace pocket
