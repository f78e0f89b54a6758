// A context-free grammar over bytes and its incremental matcher: the engine under every
// structured-output constraint (JSON Schema, json_object). A grammar is a set of rules; each
// rule is alternatives of sequences of symbols, a symbol being a byte class (a set of bytes)
// or a reference to a rule. The matcher keeps the set of parse stacks the bytes so far allow
// (as llama.cpp's GBNF engine does, ref: ggml-org/llama.cpp src/llama-grammar.cpp), with the
// stacks as parent-linked frames in an arena so that trying a token's bytes and undoing them
// costs no allocation once the buffers have grown. Left recursion and repetition of something
// that can be empty are not allowed (the builder's helpers never make them).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pocket {

// A set of bytes.
struct ByteClass {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t c) const { return (bits[c >> 6] >> (c & 63)) & 1; }
  void add(uint8_t c) { bits[c >> 6] |= uint64_t{1} << (c & 63); }
  void add_range(uint8_t lo, uint8_t hi) {
    for (unsigned c = lo; c <= hi; ++c) add(static_cast<uint8_t>(c));
  }
  static ByteClass of(uint8_t c) {
    ByteClass b;
    b.add(c);
    return b;
  }
  static ByteClass range(uint8_t lo, uint8_t hi) {
    ByteClass b;
    b.add_range(lo, hi);
    return b;
  }
};

struct Grammar {
  enum Kind : uint8_t { kEnd, kBytes, kRef };
  struct Sym {
    Kind kind;
    uint32_t arg;  // kBytes: index into classes; kRef: rule id
  };
  using Seq = std::vector<Sym>;

  std::vector<Sym> elems;                   // every alternative's symbols, each followed by kEnd
  std::vector<ByteClass> classes;
  std::vector<std::vector<uint32_t>> rules; // [rule] start index (in elems) of each alternative
  std::vector<std::string> min_text;        // [rule] a shortest text the rule derives
  uint32_t root = 0;

  // --- building ---
  Sym bytes(const ByteClass& c);
  Seq lit(std::string_view s);                   // the exact bytes of s
  uint32_t declare();                            // a rule defined later (recursion, $ref)
  void define(uint32_t rule, const std::vector<Seq>& alts);
  Sym rule(const std::vector<Seq>& alts);        // a new rule, referenced
  static Sym ref(uint32_t rule) { return {kRef, rule}; }
  Sym opt(const Seq& s) { return rule({{}, s}); }
  Sym star(const Seq& s);                        // s repeated, zero or more times
  // s repeated min..max times (max < 0: unbounded).
  Seq repeat(const Seq& s, int64_t min, int64_t max);
  // Finishes the grammar: computes min_text. Throws std::runtime_error when a rule derives no
  // finite text (e.g. a schema that only refers to itself).
  void finish(uint32_t root_rule);
  size_t size() const { return elems.size(); }
};

inline Grammar::Seq operator+(Grammar::Seq a, const Grammar::Seq& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline Grammar::Seq operator+(Grammar::Seq a, Grammar::Sym b) {
  a.push_back(b);
  return a;
}

// Which texts of a grammar the bytes so far can still grow into. push() tries one byte on top
// of the current state; pop() undoes the last push; commit() makes the pushes permanent.
class GrammarMatcher {
 public:
  static constexpr size_t kMaxStacks = 256;  // ambiguity cap: extra parses are dropped (sound)

  explicit GrammarMatcher(const Grammar& g);
  // Appends a byte; false (and nothing changed) when no parse continues with it.
  bool push(uint8_t c);
  void pop();
  void commit();
  // Pushes every byte of s and commits them; false when some byte was refused (then nothing
  // was committed).
  bool advance(std::string_view s);
  // The bytes so far are a complete text of the grammar.
  bool accepting() const { return levels_[depth_].accepting; }
  // Nothing more can follow (accepting, and no parse takes another byte).
  bool done() const { return levels_[depth_].stacks.empty(); }
  // A shortest text completing the grammar from the current state (empty when accepting).
  std::string closing_suffix() const;
  size_t depth() const { return depth_; }  // uncommitted pushes

 private:
  struct Frame {
    uint32_t pos;    // index in elems of the next symbol of this frame
    int32_t parent;  // frame to continue with once this one ends; -1: the root
  };
  struct Level {
    std::vector<int32_t> stacks;  // frames whose next symbol is a byte class
    bool accepting = false;
    size_t arena_mark = 0;        // arena size before this level's frames
  };
  void expand(uint32_t pos, int32_t parent, Level& out, int guard);
  bool same_stack(int32_t a, int32_t b) const;

  const Grammar& g_;
  std::vector<Frame> arena_;
  std::vector<Level> levels_;  // [0] committed state, [1..depth_] trial pushes
  size_t depth_ = 0;
};

}  // namespace pocket
