// A byte-level recogniser for one JSON object, used to constrain generation: the server's
// `response_format: {"type": "json_object"}` and forced tool-call arguments. Each candidate
// token's bytes are checked against the prefix generated so far; when the token budget is
// about to run out, closing_suffix() gives the shortest text that completes the object, which
// the scheduler forces. No grammar engine: the state is a small fixed-size struct, so a
// token can be tried on a copy without allocating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pocket {

class JsonObjectPrefix {
 public:
  static constexpr int kMaxDepth = 16;     // nested containers (keeps the closing text short)
  static constexpr int kMaxSpaceRun = 2;   // consecutive whitespace bytes between tokens

  // Appends bytes; returns false (and leaves the state unspecified) when they cannot be part
  // of one JSON object starting at the first byte. Use a copy to try a candidate.
  bool push(std::string_view bytes);
  bool push(char c);
  // The object is closed; nothing more may follow.
  bool done() const { return state_ == State::kDone; }
  // Bytes that complete the object from here (empty when done()).
  std::string closing_suffix() const;

 private:
  enum class State : uint8_t {
    kStart, kValue, kKeyOrEnd, kKey, kColon, kAfterValue, kValueOrEnd, kString, kKeyString, kEscape,
    kKeyEscape, kUnicode, kKeyUnicode, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumExp, kNumExpSign,
    kNumExpDigits, kLiteral, kDone
  };
  bool value_start(char c);
  bool end_number(char c);
  bool after_value(char c);
  static bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

  State state_ = State::kStart;
  char stack_[kMaxDepth] = {};  // '{' or '['
  int depth_ = 0;
  int spaces_ = 0;
  int hex_left_ = 0;
  const char* literal_ = nullptr;  // rest of true/false/null still expected
};

}  // namespace pocket
