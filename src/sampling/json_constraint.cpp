// JSON object prefix recogniser (RFC 8259 grammar, objects at the root only).
#include "sampling/json_constraint.h"

namespace pocket {

bool JsonObjectPrefix::push(std::string_view bytes) {
  for (char c : bytes)
    if (!push(c)) return false;
  return true;
}

bool JsonObjectPrefix::value_start(char c) {
  switch (c) {
    case '{':
    case '[':
      if (depth_ >= kMaxDepth) return false;
      stack_[depth_++] = c;
      state_ = c == '{' ? State::kKeyOrEnd : State::kValueOrEnd;
      return true;
    case '"': state_ = State::kString; return true;
    case '-': state_ = State::kNumMinus; return true;
    case '0': state_ = State::kNumZero; return true;
    case 't': literal_ = "rue"; state_ = State::kLiteral; return true;
    case 'f': literal_ = "alse"; state_ = State::kLiteral; return true;
    case 'n': literal_ = "ull"; state_ = State::kLiteral; return true;
    default:
      if (c >= '1' && c <= '9') {
        state_ = State::kNumInt;
        return true;
      }
      return false;
  }
}

// A value just ended; c is the next byte.
bool JsonObjectPrefix::after_value(char c) {
  if (space(c)) return ++spaces_ <= kMaxSpaceRun;
  spaces_ = 0;
  if (c == ',') {
    state_ = stack_[depth_ - 1] == '{' ? State::kKey : State::kValue;
    return true;
  }
  if ((c == '}' && stack_[depth_ - 1] == '{') || (c == ']' && stack_[depth_ - 1] == '[')) {
    --depth_;
    state_ = depth_ == 0 ? State::kDone : State::kAfterValue;
    return true;
  }
  return false;
}

// c follows a number that is complete so far.
bool JsonObjectPrefix::end_number(char c) {
  state_ = State::kAfterValue;
  spaces_ = 0;
  return after_value(c);
}

bool JsonObjectPrefix::push(char c) {
  const bool is_space = space(c);
  const bool digit = c >= '0' && c <= '9';
  switch (state_) {
    case State::kStart:
      if (c != '{') return false;
      stack_[depth_++] = '{';
      state_ = State::kKeyOrEnd;
      return true;
    case State::kDone: return false;
    case State::kValue:
    case State::kValueOrEnd:
      if (is_space) return ++spaces_ <= kMaxSpaceRun;
      spaces_ = 0;
      if (state_ == State::kValueOrEnd && c == ']') {
        --depth_;
        state_ = depth_ == 0 ? State::kDone : State::kAfterValue;
        return true;
      }
      return value_start(c);
    case State::kKeyOrEnd:
    case State::kKey:
      if (is_space) return ++spaces_ <= kMaxSpaceRun;
      spaces_ = 0;
      if (c == '"') {
        state_ = State::kKeyString;
        return true;
      }
      if (state_ == State::kKeyOrEnd && c == '}') {
        --depth_;
        state_ = depth_ == 0 ? State::kDone : State::kAfterValue;
        return true;
      }
      return false;
    case State::kColon:
      if (is_space) return ++spaces_ <= kMaxSpaceRun;
      spaces_ = 0;
      if (c != ':') return false;
      state_ = State::kValue;
      return true;
    case State::kAfterValue: return after_value(c);
    case State::kString:
    case State::kKeyString: {
      const bool key = state_ == State::kKeyString;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') state_ = key ? State::kKeyEscape : State::kEscape;
      if (c == '"') {
        state_ = key ? State::kColon : State::kAfterValue;
        spaces_ = 0;
      }
      return true;
    }
    case State::kEscape:
    case State::kKeyEscape: {
      const bool key = state_ == State::kKeyEscape;
      if (c == 'u') {
        hex_left_ = 4;
        state_ = key ? State::kKeyUnicode : State::kUnicode;
        return true;
      }
      static constexpr std::string_view kEscapes = "\"\\/bfnrt";
      if (kEscapes.find(c) == std::string_view::npos) return false;
      state_ = key ? State::kKeyString : State::kString;
      return true;
    }
    case State::kUnicode:
    case State::kKeyUnicode: {
      const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return false;
      if (--hex_left_ == 0) state_ = state_ == State::kKeyUnicode ? State::kKeyString : State::kString;
      return true;
    }
    case State::kNumMinus:
      if (c == '0') state_ = State::kNumZero;
      else if (digit) state_ = State::kNumInt;
      else return false;
      return true;
    case State::kNumZero:
    case State::kNumInt:
      if (digit && state_ == State::kNumInt) return true;
      if (c == '.') {
        state_ = State::kNumDot;
        return true;
      }
      if (c == 'e' || c == 'E') {
        state_ = State::kNumExp;
        return true;
      }
      return end_number(c);
    case State::kNumDot:
      if (!digit) return false;
      state_ = State::kNumFrac;
      return true;
    case State::kNumFrac:
      if (digit) return true;
      if (c == 'e' || c == 'E') {
        state_ = State::kNumExp;
        return true;
      }
      return end_number(c);
    case State::kNumExp:
      if (c == '+' || c == '-') {
        state_ = State::kNumExpSign;
        return true;
      }
      [[fallthrough]];
    case State::kNumExpSign:
      if (!digit) return false;
      state_ = State::kNumExpDigits;
      return true;
    case State::kNumExpDigits:
      if (digit) return true;
      return end_number(c);
    case State::kLiteral:
      if (c != *literal_) return false;
      if (*++literal_ == '\0') {
        state_ = State::kAfterValue;
        spaces_ = 0;
      }
      return true;
  }
  return false;
}

std::string JsonObjectPrefix::closing_suffix() const {
  JsonObjectPrefix p = *this;
  std::string out;
  // Each step moves toward closing; bounded by the depth and the longest literal.
  for (int guard = 0; guard < 8 * kMaxDepth + 16 && !p.done(); ++guard) {
    char c = '}';
    switch (p.state_) {
      case State::kStart: c = '{'; break;
      case State::kValue: c = 'n'; break;  // null
      case State::kKey: c = '"'; break;    // "":null
      case State::kKeyOrEnd: c = '}'; break;
      case State::kValueOrEnd: c = ']'; break;
      case State::kColon: c = ':'; break;
      case State::kString:
      case State::kKeyString: c = '"'; break;
      case State::kEscape:
      case State::kKeyEscape: c = 'n'; break;
      case State::kUnicode:
      case State::kKeyUnicode: c = '0'; break;
      case State::kNumMinus:
      case State::kNumDot:
      case State::kNumExp:
      case State::kNumExpSign: c = '0'; break;
      case State::kLiteral: c = *p.literal_; break;
      case State::kNumZero:
      case State::kNumInt:
      case State::kNumFrac:
      case State::kNumExpDigits:
      case State::kAfterValue: c = p.stack_[p.depth_ - 1] == '{' ? '}' : ']'; break;
      case State::kDone: break;
    }
    if (!p.push(c)) break;
    out += c;
  }
  return out;
}

}  // namespace pocket
