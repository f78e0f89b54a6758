// Logit processors: constraints on the next token that sit between the model's logits and
// the Sampler (transformers' LogitsProcessor idea). Each is usable from any generation
// (`pocket run --json`, the server's response_format and forced tool calls):
//   ChoiceConstraint      the output begins with one of a few token sequences (tool names);
//   JsonObjectConstraint  the output is one JSON object; near the token budget its closing
//                         text is forced.
// A processor either lists the few tokens it allows (the others are masked before sampling)
// or answers allows(id) for the sampler's candidates best-first (open-ended sets, where
// checking the whole vocabulary every step would cost more than a few refused draws).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sampling/json_constraint.h"
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

 private:
  void collect_next();
  std::vector<std::vector<int32_t>> choices_;
  std::vector<uint8_t> alive_;  // [choices] still matching the tokens accepted so far
  std::vector<int32_t> next_;   // distinct tokens allowed next
  size_t pos_ = 0;
  bool active_ = true;
};

// One JSON object (JsonObjectPrefix over each token's bytes). Only text tokens with bytes
// are allowed; control tokens and EOG are not, until the object is closed.
class JsonObjectConstraint final : public LogitProcessor {
 public:
  explicit JsonObjectConstraint(const TokenPieces& pieces) : pieces_(pieces) {}
  bool active() const override { return !state_.done(); }
  bool allows(int32_t id) const override;
  void accept(int32_t id) override;
  bool done() const { return state_.done(); }
  // Text that closes the object from here (to be forced when the budget runs out).
  std::string closing_suffix() const { return state_.closing_suffix(); }

 private:
  const TokenPieces& pieces_;
  JsonObjectPrefix state_;
};

}  // namespace pocket
