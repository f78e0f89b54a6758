// ChoiceConstraint, VocabOrder and GrammarConstraint.
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
    else if (choices_[c].size() == pos_ + 1 && !done) {
      done = true;
      matched_ = static_cast<int>(c);
    }
  }
  ++pos_;
  active_ = !done && std::find(alive_.begin(), alive_.end(), 1) != alive_.end();
  if (active_) collect_next();
}

VocabOrder::VocabOrder(const TokenPieces& pieces, int32_t n_vocab) {
  for (int32_t id = 0; id < n_vocab; ++id)
    if (pieces.is_text(id) && !pieces.piece(id).empty()) ids_.push_back(id);
  std::sort(ids_.begin(), ids_.end(), [&](int32_t a, int32_t b) { return pieces.piece(a) < pieces.piece(b); });
  lcp_.assign(ids_.size(), 0);
  for (size_t k = 1; k < ids_.size(); ++k) {
    const std::string_view a = pieces.piece(ids_[k - 1]), b = pieces.piece(ids_[k]);
    size_t n = 0;
    while (n < a.size() && n < b.size() && n < 0xFFFF && a[n] == b[n]) ++n;
    lcp_[k] = static_cast<uint16_t>(n);
  }
}

GrammarConstraint::GrammarConstraint(const TokenPieces& pieces, const VocabOrder& order,
                                     std::shared_ptr<const Grammar> grammar, std::vector<int32_t> eog)
    : pieces_(pieces), order_(order), grammar_(std::move(grammar)), eog_(std::move(eog)), m_(*grammar_) {
  all_.reserve(order_.ids().size());
}

bool GrammarConstraint::allows(int32_t id) const {
  if (std::find(eog_.begin(), eog_.end(), id) != eog_.end()) return m_.accepting();
  if (!pieces_.is_text(id)) return false;
  const std::string_view bytes = pieces_.piece(id);
  if (bytes.empty()) return false;
  size_t pushed = 0;
  while (pushed < bytes.size() && m_.push(static_cast<uint8_t>(bytes[pushed]))) ++pushed;
  const bool ok = pushed == bytes.size() && fits();
  for (size_t k = 0; k < pushed; ++k) m_.pop();
  return ok;
}

const std::vector<int32_t>* GrammarConstraint::enumerate() const {
  all_.clear();
  if (m_.accepting()) all_.insert(all_.end(), eog_.begin(), eog_.end());
  const std::vector<int32_t>& ids = order_.ids();
  const std::vector<uint16_t>& lcp = order_.lcp();
  size_t depth = 0;  // bytes pushed: a prefix of the current token
  for (size_t k = 0; k < ids.size();) {
    while (depth > lcp[k]) {
      m_.pop();
      --depth;
    }
    const std::string_view bytes = pieces_.piece(ids[k]);
    while (depth < bytes.size() && m_.push(static_cast<uint8_t>(bytes[depth]))) ++depth;
    if (depth == bytes.size()) {
      if (fits()) all_.push_back(ids[k]);
      ++k;
      continue;
    }
    // bytes[0..depth] is refused: so is every following token that starts with it.
    for (++k; k < ids.size() && lcp[k] > depth; ++k) {}
  }
  for (; depth > 0; --depth) m_.pop();
  return &all_;
}

void GrammarConstraint::accept(int32_t id) {
  if (pieces_.is_text(id)) m_.advance(pieces_.piece(id));
}

}  // namespace pocket
