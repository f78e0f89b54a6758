// A JSON Schema `pattern` (ECMAScript regular expression syntax, the subset below) compiled to
// grammar symbols over the bytes of a JSON string body: a character the pattern allows is
// emitted as JSON writes it (`"` as \", `\` as \\, control characters as \n, \t, \u00XX...).
// Supported: literals, `.`, classes [a-z0-9_] and [^...], \d \w \s \D \W \S, escapes \n \t \r
// \f \v \0 \xHH \uHHHH, groups (...) (?:...) (?<name>...), alternation, quantifiers * + ? {n}
// {n,} {n,m} (lazy forms match the same strings), and ^ / $ at the ends. Refused by name:
// lookaround, backreferences, word boundaries, \p{...}, non-ASCII ranges in a class, and a
// repeated group that can match nothing. JSON Schema patterns are not implicitly anchored
// (json-schema.org draft 2020-12 validation, section 6.3.3), so an unanchored side accepts any
// text.
#include <bitset>
#include <cctype>

#include "core/error.h"
#include "sampling/json_schema.h"

namespace pocket {

std::vector<Grammar::Seq> utf8_multibyte(Grammar& g) {
  const auto b = [&](uint8_t lo, uint8_t hi) { return g.bytes(ByteClass::range(lo, hi)); };
  const Grammar::Sym tail = b(0x80, 0xBF);
  return {
      {b(0xC2, 0xDF), tail},
      {b(0xE0, 0xE0), b(0xA0, 0xBF), tail},
      {b(0xE1, 0xEC), tail, tail},
      {b(0xED, 0xED), b(0x80, 0x9F), tail},  // no UTF-16 surrogates
      {b(0xEE, 0xEF), tail, tail},
      {b(0xF0, 0xF0), b(0x90, 0xBF), tail, tail},
      {b(0xF1, 0xF3), tail, tail, tail},
      {b(0xF4, 0xF4), b(0x80, 0x8F), tail, tail},
  };
}

namespace {

struct CharSet {
  std::bitset<128> ascii;
  bool non_ascii = false;
};

struct Piece {
  Grammar::Seq seq;
  bool nullable = true;
};

constexpr int kMaxRepeat = 1000;

class PatternCompiler {
 public:
  PatternCompiler(Grammar& g, std::string_view p, const std::string& where) : g_(g), p_(p), where_(where) {}

  Grammar::Seq run() {
    bool start_anchor = false, end_anchor = false;
    std::string_view body = p_;
    if (!body.empty() && body.front() == '^') {
      start_anchor = true;
      body.remove_prefix(1);
    }
    if (!body.empty() && body.back() == '$') {
      size_t slashes = 0;
      for (size_t k = body.size() - 1; k-- > 0 && body[k] == '\\';) ++slashes;
      if (slashes % 2 == 0) {
        end_anchor = true;
        body.remove_suffix(1);
      }
    }
    p_ = body;
    int branches = 0;
    Piece main = alternation(branches);
    if (i_ != p_.size()) bad("an unmatched ')'");
    if (branches > 1 && (start_anchor || end_anchor))
      bad("^ or $ next to a top-level '|' (wrap the alternatives in a group)");
    CharSet all;
    all.ascii.set();
    all.non_ascii = true;
    Grammar::Seq out;
    if (!start_anchor) out.push_back(g_.star({emit(all)}));
    out = out + main.seq;
    if (!end_anchor) out.push_back(g_.star({emit(all)}));
    return out;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail("json_schema: {}: 'pattern' {:?}: {} is not supported", where_, std::string(p_), what);
  }
  bool more() const { return i_ < p_.size(); }
  char peek() const { return p_[i_]; }

  // One character of the set, as JSON writes it inside a string.
  Grammar::Sym emit(const CharSet& s) {
    ByteClass plain;
    std::vector<Grammar::Seq> alts;
    for (int c = 0; c < 128; ++c) {
      if (!s.ascii[c]) continue;
      if (c >= 0x20 && c != '"' && c != '\\') {
        plain.add(static_cast<uint8_t>(c));
        continue;
      }
      static constexpr const char* kShort[] = {"\\b", "\\t", "\\n", nullptr, "\\f", "\\r"};
      if (c == '"') alts.push_back(g_.lit("\\\""));
      else if (c == '\\') alts.push_back(g_.lit("\\\\"));
      else if (c >= 8 && c <= 13 && kShort[c - 8]) alts.push_back(g_.lit(kShort[c - 8]));
      else alts.push_back(g_.lit(fmt::format("\\u{:04x}", c)));
    }
    if (s.non_ascii)
      for (Grammar::Seq& m : utf8_multibyte(g_)) alts.push_back(std::move(m));
    const bool has_plain = plain.bits != ByteClass{}.bits;
    if (alts.empty() && has_plain) return g_.bytes(plain);
    if (has_plain) alts.push_back({g_.bytes(plain)});
    if (alts.empty()) bad("an empty character class");
    return g_.rule(alts);
  }

  static CharSet single(unsigned char c) {
    CharSet s;
    s.ascii.set(c);
    return s;
  }
  static CharSet named(char k) {
    CharSet s;
    const char lower = static_cast<char>(k | 0x20);
    for (int c = 0; c < 128; ++c) {
      const bool digit = c >= '0' && c <= '9';
      const bool word = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      const bool space = c == ' ' || (c >= 9 && c <= 13);
      s.ascii[c] = lower == 'd' ? digit : lower == 'w' ? word : space;
    }
    if (k >= 'A' && k <= 'Z') {  // \D \W \S: the complement, non-ASCII included
      s.ascii.flip();
      s.non_ascii = true;
    }
    return s;
  }

  unsigned hex(size_t n) {
    unsigned v = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!more() || !std::isxdigit(static_cast<unsigned char>(peek()))) bad("a malformed \\x or \\u escape");
      const char c = p_[i_++];
      v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  }

  // After a backslash: a set (\d ...) or one character. in_class: a non-ASCII \u is refused.
  CharSet escape(bool in_class, std::string* utf8) {
    if (!more()) bad("a trailing backslash");
    const char k = p_[i_++];
    switch (k) {
      case 'd': case 'D': case 'w': case 'W': case 's': case 'S': return named(k);
      case 'n': return single('\n');
      case 't': return single('\t');
      case 'r': return single('\r');
      case 'f': return single('\f');
      case 'v': return single('\v');
      case '0': return single('\0');
      case 'x': return single(static_cast<unsigned char>(hex(2)));
      case 'u': {
        const unsigned cp = hex(4);
        if (cp < 128) return single(static_cast<unsigned char>(cp));
        if (in_class || !utf8 || (cp >= 0xD800 && cp <= 0xDFFF)) bad("a non-ASCII \\u escape in a class");
        *utf8 = cp < 0x800 ? std::string{static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 63))}
                           : std::string{static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 63)),
                                         static_cast<char>(0x80 | (cp & 63))};
        return {};
      }
      case 'b': case 'B': if (!in_class) bad("a word boundary (\\b, \\B)"); return single('\b');
      default:
        if (k >= '1' && k <= '9') bad("a backreference");
        if (std::isalnum(static_cast<unsigned char>(k))) bad(fmt::format("the escape \\{}", k));
        if (static_cast<unsigned char>(k) >= 128) bad("an escaped non-ASCII character");
        return single(static_cast<unsigned char>(k));
    }
  }

  CharSet char_class() {  // after '['
    CharSet s;
    bool negate = false;
    if (more() && peek() == '^') {
      negate = true;
      ++i_;
    }
    while (more() && peek() != ']') {
      CharSet lo;
      int lo_char = -1;
      if (peek() == '\\') {
        ++i_;
        lo = escape(true, nullptr);
        if (lo.ascii.count() == 1 && !lo.non_ascii)
          for (int c = 0; c < 128; ++c)
            if (lo.ascii[c]) lo_char = c;
      } else {
        const unsigned char c = static_cast<unsigned char>(p_[i_++]);
        if (c >= 128) bad("a non-ASCII character in a class");
        lo = single(c);
        lo_char = c;
      }
      if (i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        int hi_char = -1;
        if (peek() == '\\') {
          ++i_;
          const CharSet hi = escape(true, nullptr);
          if (hi.ascii.count() == 1 && !hi.non_ascii)
            for (int c = 0; c < 128; ++c)
              if (hi.ascii[c]) hi_char = c;
        } else if (static_cast<unsigned char>(peek()) < 128) {
          hi_char = static_cast<unsigned char>(p_[i_++]);
        }
        if (lo_char < 0 || hi_char < 0) bad("a class range that is not between two ASCII characters");
        if (hi_char < lo_char) bad("a class range out of order");
        for (int c = lo_char; c <= hi_char; ++c) s.ascii.set(c);
        continue;
      }
      s.ascii |= lo.ascii;
      s.non_ascii = s.non_ascii || lo.non_ascii;
    }
    if (!more()) bad("an unterminated class");
    ++i_;  // ']'
    if (negate) {
      s.ascii.flip();
      s.non_ascii = !s.non_ascii;
    }
    return s;
  }

  Piece atom() {
    const char c = p_[i_];
    if (c == '(') {
      ++i_;
      if (p_.substr(i_, 2) == "?:") i_ += 2;
      else if (p_.substr(i_, 2) == "?<" && i_ + 2 < p_.size() && p_[i_ + 2] != '=' && p_[i_ + 2] != '!') {
        const size_t close = p_.find('>', i_);
        if (close == std::string_view::npos) bad("an unterminated group name");
        i_ = close + 1;
      } else if (more() && peek() == '?') {
        bad("lookaround");
      }
      int branches = 0;
      Piece inner = alternation(branches);
      if (!more() || peek() != ')') bad("an unterminated group");
      ++i_;
      return inner;
    }
    if (c == '[') {
      ++i_;
      return {{emit(char_class())}, false};
    }
    if (c == '.') {
      ++i_;
      CharSet s;
      s.ascii.set();
      s.ascii.reset('\n');
      s.ascii.reset('\r');
      s.non_ascii = true;
      return {{emit(s)}, false};
    }
    if (c == '\\') {
      ++i_;
      std::string utf8;
      const CharSet s = escape(false, &utf8);
      if (!utf8.empty()) return {g_.lit(utf8), false};
      return {{emit(s)}, false};
    }
    if (c == '^' || c == '$') bad("an anchor inside the pattern");
    if (c == '*' || c == '+' || c == '?') bad("a quantifier with nothing to repeat");
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 128) {  // a literal non-ASCII character: its UTF-8 bytes
      const size_t n = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 0;
      if (n == 0 || i_ + n > p_.size()) bad("malformed UTF-8");
      const std::string_view bytes = p_.substr(i_, n);
      i_ += n;
      return {g_.lit(bytes), false};
    }
    ++i_;
    return {{emit(single(u))}, false};
  }

  // {n}, {n,}, {n,m} at i_ (after '{'); false when the text is not a quantifier (then a literal '{').
  bool braces(int64_t& min, int64_t& max) {
    size_t j = i_ + 1;
    auto num = [&](int64_t& v) {
      const size_t s = j;
      v = 0;
      while (j < p_.size() && std::isdigit(static_cast<unsigned char>(p_[j])) && v <= kMaxRepeat) v = v * 10 + (p_[j++] - '0');
      return j > s;
    };
    if (!num(min)) return false;
    max = min;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (!num(max)) max = -1;
    }
    if (j >= p_.size() || p_[j] != '}') return false;
    i_ = j + 1;
    return true;
  }

  Piece quantified() {
    Piece a = atom();
    if (!more()) return a;
    int64_t min = 1, max = 1;
    const char q = peek();
    if (q == '*') min = 0, max = -1, ++i_;
    else if (q == '+') min = 1, max = -1, ++i_;
    else if (q == '?') min = 0, max = 1, ++i_;
    else if (q != '{' || !braces(min, max)) return a;
    if (more() && peek() == '?') ++i_;  // lazy: the same strings
    if (min > kMaxRepeat || max > kMaxRepeat) bad(fmt::format("a repeat count above {}", kMaxRepeat));
    if (max >= 0 && max < min) bad("a repeat range out of order");
    if (max < 0 && a.nullable) bad("a repeated group that can match nothing");
    const Grammar::Seq unit = a.seq.size() == 1 ? a.seq : Grammar::Seq{g_.rule({a.seq})};
    return {g_.repeat(unit, min, max), a.nullable || min == 0};
  }

  Piece alternation(int& branches) {
    std::vector<Grammar::Seq> alts;
    bool nullable = false;
    for (;;) {
      Piece seq{{}, true};
      while (more() && peek() != '|' && peek() != ')') {
        Piece q = quantified();
        seq.seq = seq.seq + q.seq;
        seq.nullable = seq.nullable && q.nullable;
      }
      alts.push_back(std::move(seq.seq));
      nullable = nullable || seq.nullable;
      if (!more() || peek() != '|') break;
      ++i_;
    }
    branches = static_cast<int>(alts.size());
    if (alts.size() == 1) return {std::move(alts[0]), nullable};
    return {{g_.rule(alts)}, nullable};
  }

  Grammar& g_;
  std::string_view p_;
  const std::string& where_;
  size_t i_ = 0;
};

}  // namespace

Grammar::Seq compile_pattern(Grammar& g, std::string_view pattern, const std::string& where) {
  return PatternCompiler(g, pattern, where).run();
}

}  // namespace pocket
