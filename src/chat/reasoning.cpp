// Thinking and answer apart (reasoning.h).
#include "chat/reasoning.h"

#include <algorithm>

namespace pocket {

namespace {

// Bytes at the end of `s` that are a proper prefix of some marker (they may complete later).
size_t partial_marker(std::string_view s, const std::vector<const std::string*>& markers) {
  size_t keep = 0;
  for (const std::string* m : markers)
    for (size_t n = std::min(s.size(), m->size() - 1); n > keep; --n)
      if (s.substr(s.size() - n) == std::string_view(*m).substr(0, n)) {
        keep = n;
        break;
      }
  return keep;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

}  // namespace

std::optional<ReasoningFormat> ReasoningFormat::detect(std::string_view chat_template, const Tokenizer& tok) {
  ReasoningFormat f{"[THINK]", "[/THINK]"};
  if (chat_template.find(f.open) == std::string_view::npos) return std::nullopt;
  if (!tok.token_id(f.open) || !tok.token_id(f.close)) return std::nullopt;
  return f;
}

ReasoningSplitter::ReasoningSplitter(ReasoningFormat f, std::vector<std::string> ends_thinking, bool thinking)
    : f_(std::move(f)), ends_(std::move(ends_thinking)), thinking_(thinking) {
  ends_.erase(std::remove(ends_.begin(), ends_.end(), std::string()), ends_.end());
}

ReasoningSplitter::Parts ReasoningSplitter::feed(std::string_view text) {
  Parts out;
  held_.append(text);
  std::string_view rest = held_;
  for (;;) {
    if (after_close_) {
      while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
      if (rest.empty()) break;
      after_close_ = false;
    }
    if (!thinking_) {
      // A close marker outside a block is a stray control token, not answer text.
      const size_t at = std::min(rest.find(f_.open), rest.find(f_.close));
      if (at == std::string_view::npos) {
        const size_t keep = partial_marker(rest, {&f_.open, &f_.close});
        out.content.append(rest.substr(0, rest.size() - keep));
        rest.remove_prefix(rest.size() - keep);
        break;
      }
      out.content.append(rest.substr(0, at));
      const bool opens = rest.compare(at, f_.open.size(), f_.open) == 0;
      rest.remove_prefix(at + (opens ? f_.open : f_.close).size());
      thinking_ = opens;
      continue;
    }
    // Thinking: up to the close marker, or up to a marker that ends thinking (kept for the
    // answer). An open marker inside a block opens nothing and is not text.
    size_t end = rest.find(f_.close), skip = f_.close.size();
    for (const std::string& m : ends_) {
      const size_t at = rest.find(m);
      if (at < end) end = at, skip = 0;
    }
    const size_t nested = rest.find(f_.open);
    if (nested < end) {
      out.reasoning.append(rest.substr(0, nested));
      rest.remove_prefix(nested + f_.open.size());
      continue;
    }
    if (end == std::string_view::npos) {
      std::vector<const std::string*> markers{&f_.close, &f_.open};
      for (const std::string& m : ends_) markers.push_back(&m);
      const size_t keep = partial_marker(rest, markers);
      out.reasoning.append(rest.substr(0, rest.size() - keep));
      rest.remove_prefix(rest.size() - keep);
      break;
    }
    out.reasoning.append(rest.substr(0, end));
    rest.remove_prefix(end + skip);
    thinking_ = false;
    after_close_ = skip != 0;
  }
  held_.erase(0, held_.size() - rest.size());
  return out;
}

ReasoningSplitter::Parts ReasoningSplitter::finish() {
  Parts out;
  (thinking_ ? out.reasoning : out.content) = std::move(held_);
  held_.clear();
  return out;
}

}  // namespace pocket
