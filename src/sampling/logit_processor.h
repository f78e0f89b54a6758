// Logit processors: constraints on the next token that sit between the model's logits and
// the Sampler (transformers' LogitsProcessor idea). Each is usable from any generation
// (`pocket run --json`, the server's response_format and forced tool calls):
//   ChoiceConstraint      the output begins with one of a few token sequences (tool names);
//   GrammarConstraint     the output is a text of a grammar (sampling/grammar.h): a JSON
//                         Schema, or any JSON object; near the token budget its shortest
//                         completion is forced.
// A processor either lists the few tokens it allows (the others are masked before sampling)
// or answers allows(id) for the sampler's candidates best-first (open-ended sets, where
// checking the whole vocabulary every step would cost more than a few refused draws); when
// those keep being refused it can enumerate every allowed token.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sampling/grammar.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

class LogitProcessor {
 public:
  virtual ~LogitProcessor() = default;
  // Still constraining (a finished choice or a closed object no longer is).
  virtual bool active() const = 0;
  // The only tokens allowed next, or nullptr when the set is open-ended (ask allows()).
  virtual const std::vector<int32_t>* allowed_list() const { return nullptr; }
  virtual bool allows(int32_t id) const = 0;
  // Every allowed token, for an open-ended set whose best candidates were refused; nullptr when
  // the processor cannot enumerate (then the sampler keeps drawing).
  virtual const std::vector<int32_t>* enumerate() const { return nullptr; }
  // The token chosen (sampled or forced) is fed back.
  virtual void accept(int32_t id) = 0;
};

// The output begins with one of `choices` (token sequences); at each position the tokens
// that still-matching choices continue with are allowed.
class ChoiceConstraint final : public LogitProcessor {
 public:
  explicit ChoiceConstraint(std::vector<std::vector<int32_t>> choices);
  bool active() const override { return active_; }
  const std::vector<int32_t>* allowed_list() const override { return &next_; }
  bool allows(int32_t id) const override;
  void accept(int32_t id) override;
  // The choice the accepted tokens completed (-1 while none has).
  int matched() const { return matched_; }

 private:
  void collect_next();
  std::vector<std::vector<int32_t>> choices_;
  std::vector<uint8_t> alive_;  // [choices] still matching the tokens accepted so far
  std::vector<int32_t> next_;   // distinct tokens allowed next
  size_t pos_ = 0;
  bool active_ = true;
  int matched_ = -1;
};

// The text tokens with bytes, sorted by their bytes, with each one's common prefix length with
// the one before: walking it tries every shared prefix once, and a refused prefix skips every
// token that starts with it (a token trie, flattened).
class VocabOrder {
 public:
  explicit VocabOrder(const TokenPieces& pieces, int32_t n_vocab);
  const std::vector<int32_t>& ids() const { return ids_; }
  const std::vector<uint16_t>& lcp() const { return lcp_; }

 private:
  std::vector<int32_t> ids_;
  std::vector<uint16_t> lcp_;  // [k] common prefix length of ids_[k] and ids_[k-1]; [0] = 0
};

// The output is a text of `grammar`: each candidate token's bytes are tried on the matcher
// and undone. End-of-generation tokens (`eog`) are allowed once the text is complete; other
// control tokens never are.
class GrammarConstraint final : public LogitProcessor {
 public:
  GrammarConstraint(const TokenPieces& pieces, const VocabOrder& order, std::shared_ptr<const Grammar> grammar,
                    std::vector<int32_t> eog);
  bool active() const override { return !m_.done(); }
  bool allows(int32_t id) const override;
  const std::vector<int32_t>* enumerate() const override;
  void accept(int32_t id) override;
  bool done() const { return m_.done(); }
  // A shortest text completing the grammar from here (to be forced when the budget runs out).
  std::string closing_suffix() const { return m_.closing_suffix(); }
  // From now on a token is allowed only if the shortest completion after it has at most
  // `bytes` bytes (kNoBudget: no limit). Keeps a forced completion within max_tokens.
  static constexpr size_t kNoBudget = static_cast<size_t>(-1);
  void set_budget(size_t bytes) { budget_ = bytes; }

 private:
  const TokenPieces& pieces_;
  const VocabOrder& order_;
  std::shared_ptr<const Grammar> grammar_;
  std::vector<int32_t> eog_;
  mutable GrammarMatcher m_;          // trial pushes are undone before returning
  mutable std::vector<int32_t> all_;  // enumerate()'s answer
  size_t budget_ = kNoBudget;
  bool fits() const { return budget_ == kNoBudget || m_.closing_suffix().size() <= budget_; }
};

}  // namespace pocket
