// ChoiceConstraint and JsonObjectConstraint.
#include "sampling/logit_processor.h"

#include <algorithm>

namespace pocket {

ChoiceConstraint::ChoiceConstraint(std::vector<std::vector<int32_t>> choices) : choices_(std::move(choices)) {
  std::erase_if(choices_, [](const std::vector<int32_t>& c) { return c.empty(); });
  alive_.assign(choices_.size(), 1);
  next_.reserve(choices_.size());
  active_ = !choices_.empty();
  collect_next();
}

void ChoiceConstraint::collect_next() {
  next_.clear();
  for (size_t c = 0; c < choices_.size(); ++c)
    if (alive_[c] && std::find(next_.begin(), next_.end(), choices_[c][pos_]) == next_.end())
      next_.push_back(choices_[c][pos_]);
}

bool ChoiceConstraint::allows(int32_t id) const { return std::find(next_.begin(), next_.end(), id) != next_.end(); }

void ChoiceConstraint::accept(int32_t id) {
  if (!active_) return;
  bool done = false;
  for (size_t c = 0; c < choices_.size(); ++c) {
    if (!alive_[c]) continue;
    if (choices_[c][pos_] != id) alive_[c] = 0;
    else if (choices_[c].size() == pos_ + 1) done = true;
  }
  ++pos_;
  active_ = !done && std::find(alive_.begin(), alive_.end(), 1) != alive_.end();
  if (active_) collect_next();
}

bool JsonObjectConstraint::allows(int32_t id) const {
  if (!pieces_.is_text(id) || pieces_.piece(id).empty()) return false;
  JsonObjectPrefix trial = state_;
  return trial.push(pieces_.piece(id));
}

void JsonObjectConstraint::accept(int32_t id) {
  if (pieces_.is_text(id)) state_.push(pieces_.piece(id));
}

}  // namespace pocket
