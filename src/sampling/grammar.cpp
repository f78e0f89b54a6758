// Grammar building helpers and the stack-set matcher (see grammar.h).
#include "sampling/grammar.h"

#include <limits>
#include <stdexcept>

namespace pocket {

Grammar::Sym Grammar::bytes(const ByteClass& c) {
  // Literal text makes many single-byte classes: share them.
  for (size_t i = classes.size(); i-- > 0 && classes.size() - i <= 64;)
    if (classes[i].bits == c.bits) return {kBytes, static_cast<uint32_t>(i)};
  classes.push_back(c);
  return {kBytes, static_cast<uint32_t>(classes.size() - 1)};
}

Grammar::Seq Grammar::lit(std::string_view s) {
  Seq out;
  out.reserve(s.size());
  for (char c : s) out.push_back(bytes(ByteClass::of(static_cast<uint8_t>(c))));
  return out;
}

uint32_t Grammar::declare() {
  rules.emplace_back();
  return static_cast<uint32_t>(rules.size() - 1);
}

void Grammar::define(uint32_t rule, const std::vector<Seq>& alts) {
  std::vector<uint32_t>& starts = rules[rule];
  for (const Seq& s : alts) {
    starts.push_back(static_cast<uint32_t>(elems.size()));
    elems.insert(elems.end(), s.begin(), s.end());
    elems.push_back({kEnd, 0});
  }
}

Grammar::Sym Grammar::rule(const std::vector<Seq>& alts) {
  const uint32_t r = declare();
  define(r, alts);
  return ref(r);
}

Grammar::Sym Grammar::star(const Seq& s) {
  const uint32_t r = declare();
  define(r, {{}, s + ref(r)});  // right recursion: the matcher reuses the caller's frame
  return ref(r);
}

Grammar::Seq Grammar::repeat(const Seq& s, int64_t min, int64_t max) {
  Seq out;
  out.reserve(s.size() * static_cast<size_t>(min) + 1);
  for (int64_t i = 0; i < min; ++i) out.insert(out.end(), s.begin(), s.end());
  if (max < 0) return out + star(s);
  // (s (s (...)?)?)? : max - min optional copies, each inside the previous one.
  Sym tail{kEnd, 0};
  for (int64_t i = min; i < max; ++i) tail = tail.kind == kEnd ? opt(s) : opt(s + tail);
  return tail.kind == kEnd ? out : out + tail;
}

void Grammar::finish(uint32_t root_rule) {
  root = root_rule;
  constexpr size_t kInf = std::numeric_limits<size_t>::max();
  std::vector<size_t> len(rules.size(), kInf);
  min_text.assign(rules.size(), {});
  // Shortest derivations by fixpoint; a text is only replaced by a strictly shorter one built
  // from the current texts of its parts, so every text is a real derivation.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < rules.size(); ++r) {
      for (uint32_t start : rules[r]) {
        size_t n = 0;
        for (uint32_t p = start; elems[p].kind != kEnd && n != kInf; ++p)
          n = elems[p].kind == kBytes ? n + 1 : (len[elems[p].arg] == kInf ? kInf : n + len[elems[p].arg]);
        if (n >= len[r]) continue;
        std::string t;
        for (uint32_t p = start; elems[p].kind != kEnd; ++p) {
          if (elems[p].kind == kRef) t += min_text[elems[p].arg];
          else for (unsigned c = 0; c < 256; ++c)
            if (classes[elems[p].arg].has(static_cast<uint8_t>(c))) {
              t += static_cast<char>(c);
              break;
            }
        }
        len[r] = n;
        min_text[r] = std::move(t);
        changed = true;
      }
    }
  }
  for (size_t r = 0; r < rules.size(); ++r)
    if (len[r] == kInf) throw std::runtime_error("the schema admits no finite JSON text (a definition only refers to itself)");
}

GrammarMatcher::GrammarMatcher(const Grammar& g) : g_(g) {
  levels_.resize(1);
  for (uint32_t start : g_.rules[g_.root]) expand(start, -1, levels_[0], 0);
}

bool GrammarMatcher::same_stack(int32_t a, int32_t b) const {
  while (a != b) {
    if (a < 0 || b < 0 || arena_[a].pos != arena_[b].pos) return false;
    a = arena_[a].parent;
    b = arena_[b].parent;
  }
  return true;
}

// Follows the grammar from symbol `pos` (continuing with frame `parent` when the sequence ends)
// to every byte class that can come next, adding a frame for each to `out`.
void GrammarMatcher::expand(uint32_t pos, int32_t parent, Level& out, int guard) {
  if (guard > 512) return;  // a pathological chain of empty rules: drop this parse
  const Grammar::Sym s = g_.elems[pos];
  if (s.kind == Grammar::kEnd) {
    if (parent < 0) out.accepting = true;
    else expand(arena_[parent].pos, arena_[parent].parent, out, guard + 1);
    return;
  }
  if (s.kind == Grammar::kRef) {
    int32_t cont = parent;
    if (g_.elems[pos + 1].kind != Grammar::kEnd) {  // not a tail call: remember where to return
      arena_.push_back({pos + 1, parent});
      cont = static_cast<int32_t>(arena_.size() - 1);
    }
    for (uint32_t start : g_.rules[s.arg]) expand(start, cont, out, guard + 1);
    return;
  }
  if (out.stacks.size() >= kMaxStacks) return;
  for (int32_t f : out.stacks)
    if (arena_[f].pos == pos && same_stack(arena_[f].parent, parent)) return;
  arena_.push_back({pos, parent});
  out.stacks.push_back(static_cast<int32_t>(arena_.size() - 1));
}

bool GrammarMatcher::push(uint8_t c) {
  if (levels_.size() <= depth_ + 1) levels_.resize(depth_ + 2);
  Level& next = levels_[depth_ + 1];
  const Level& cur = levels_[depth_];
  next.stacks.clear();
  next.accepting = false;
  next.arena_mark = arena_.size();
  for (int32_t f : cur.stacks) {
    const Grammar::Sym s = g_.elems[arena_[f].pos];
    if (g_.classes[s.arg].has(c)) expand(arena_[f].pos + 1, arena_[f].parent, next, 0);
  }
  if (next.stacks.empty() && !next.accepting) {
    arena_.resize(next.arena_mark);
    return false;
  }
  ++depth_;
  return true;
}

void GrammarMatcher::pop() {
  if (depth_ == 0) return;
  arena_.resize(levels_[depth_].arena_mark);
  --depth_;
}

void GrammarMatcher::commit() {
  if (depth_ == 0) return;
  std::swap(levels_[0].stacks, levels_[depth_].stacks);
  levels_[0].accepting = levels_[depth_].accepting;
  depth_ = 0;
}

bool GrammarMatcher::advance(std::string_view s) {
  const size_t base = depth_;
  for (char c : s) {
    if (!push(static_cast<uint8_t>(c))) {
      while (depth_ > base) pop();
      return false;
    }
  }
  commit();
  return true;
}

std::string GrammarMatcher::closing_suffix() const {
  if (accepting()) return {};
  std::string best;
  bool found = false;
  for (int32_t f : levels_[depth_].stacks) {
    std::string t;
    for (int32_t fr = f; fr >= 0 && (!found || t.size() < best.size()); fr = arena_[fr].parent) {
      for (uint32_t p = arena_[fr].pos; g_.elems[p].kind != Grammar::kEnd; ++p) {
        const Grammar::Sym s = g_.elems[p];
        if (s.kind == Grammar::kRef) {
          t += g_.min_text[s.arg];
          continue;
        }
        for (unsigned c = 0; c < 256; ++c)
          if (g_.classes[s.arg].has(static_cast<uint8_t>(c))) {
            t += static_cast<char>(c);
            break;
          }
      }
    }
    if (!found || t.size() < best.size()) {
      best = std::move(t);
      found = true;
    }
  }
  return best;
}

}  // namespace pocket
