// Jinja lexer; see jinja_lexer.h. A hand-written equivalent of the regular expressions in
// jinja2/lexer.py (ref: pallets/jinja src/jinja2/lexer.py, Lexer.__init__ and tokeniter),
// including its lstrip_blocks "line_starting" rule and the unicode-escape decoding of
// string literals.
#include "chat/jinja_lexer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "chat/jinja_text.h"
#include "chat/template_error.h"

namespace pocket::jinja {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(std::string_view raw, const LexOptions& opts) : opts_(opts) {
    // jinja2 splits on \r\n, \r and \n, rejoins with \n and drops one trailing newline.
    src_.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        src_ += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        src_ += raw[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') newlines_.push_back(i);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    const size_t n = src_.size();
    while (pos < n) {
      const size_t tag = find_tag(pos);
      if (tag == std::string::npos) {
        emit_data(pos, src_.substr(pos));
        break;
      }
      std::string text = src_.substr(pos, tag - pos);
      const char kind = src_[tag + 1];
      char sign = 0;
      if (tag + 2 < n && (src_[tag + 2] == '-' || src_[tag + 2] == '+')) sign = src_[tag + 2];
      size_t raw_end = 0;
      const bool raw = kind == '%' && match_raw_begin(tag + 2 + (sign ? 1 : 0), raw_end);
      apply_strip(text, sign, kind != '{');
      emit_data(pos, std::move(text));
      if (raw) {
        line_starting_ = src_[raw_end - 1] == '\n';
        pos = lex_raw(raw_end);
        continue;
      }
      pos = tag + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(pos);
      } else {
        push(kind == '{' ? Tok::kVarBegin : Tok::kBlockBegin, tag);
        pos = lex_tag(pos, kind == '{');
      }
    }
    push(Tok::kEof, n);
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail_at(size_t pos, const std::string& msg) { throw TemplateError(msg, line_at(pos)); }

  int line_at(size_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), pos) - newlines_.begin());
  }

  void push(Tok type, size_t pos, std::string text = {}) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line_at(pos);
    tokens_.push_back(std::move(t));
  }

  void emit_data(size_t pos, std::string text) {
    if (!text.empty()) push(Tok::kData, pos, std::move(text));
  }

  size_t find_tag(size_t pos) const {
    for (size_t p = src_.find('{', pos); p != std::string::npos; p = src_.find('{', p + 1)) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) return p;
    }
    return std::string::npos;
  }

  // Length of the (unicode) whitespace run starting at pos.
  size_t skip_ws(size_t pos) const {
    while (pos < src_.size()) {
      size_t next = pos;
      if (!py_isspace(next_code_point(src_, next))) break;
      pos = next;
    }
    return pos;
  }

  bool starts_with(size_t pos, std::string_view s) const {
    return src_.size() >= pos + s.size() && std::string_view(src_).substr(pos, s.size()) == s;
  }

  // {%(-|+|)\s*raw\s*(?:-%}\s*|%}) — note: no trim_blocks newline after a raw opener.
  bool match_raw_begin(size_t pos, size_t& end) const {
    pos = skip_ws(pos);
    if (!starts_with(pos, "raw")) return false;
    pos = skip_ws(pos + 3);
    if (starts_with(pos, "-%}")) {
      end = skip_ws(pos + 3);
      return true;
    }
    if (starts_with(pos, "%}")) {
      end = pos + 2;
      return true;
    }
    return false;
  }

  // Matches a tag end (+%}, -%}\s*, %}\n?) at pos for blocks and comments.
  bool match_end(size_t pos, char closer, size_t& end) const {
    const char close[3] = {closer, '}', 0};
    if (src_[pos] == '+' && starts_with(pos + 1, close)) {
      end = pos + 3;
      return true;
    }
    if (src_[pos] == '-' && starts_with(pos + 1, close)) {
      end = skip_ws(pos + 3);
      return true;
    }
    if (starts_with(pos, close)) {
      end = pos + 2;
      if (opts_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
      return true;
    }
    return false;
  }

  // jinja2's OptionalLStrip: "-" strips all trailing whitespace; otherwise lstrip_blocks
  // removes indentation when the tag starts a line.
  void apply_strip(std::string& text, char sign, bool lstrip_allowed) {
    if (sign == '-') {
      text = py_strip(text, nullptr, false, true);
      return;
    }
    if (sign == '+' || !opts_.lstrip_blocks || !lstrip_allowed) return;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return;
    if (l_pos >= text.size()) return;
    for (size_t i = l_pos; i < text.size();) {
      if (!py_isspace(next_code_point(text, i))) return;
    }
    text.resize(l_pos);
  }

  size_t lex_comment(size_t pos) {
    for (size_t p = pos; p < src_.size(); ++p) {
      size_t end = 0;
      if ((src_[p] == '+' || src_[p] == '-' || src_[p] == '#') && match_end(p, '#', end)) {
        line_starting_ = src_[end - 1] == '\n';
        return end;
      }
    }
    fail_at(pos, "Missing end of comment tag");
  }

  size_t lex_raw(size_t pos) {
    for (size_t p = src_.find("{%", pos); p != std::string::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = skip_ws(q);
      if (!starts_with(q, "endraw")) continue;
      q = skip_ws(q + 6);
      size_t end = 0;
      if (q >= src_.size() || !match_end(q, '%', end)) continue;
      std::string text = src_.substr(pos, p - pos);
      apply_strip(text, sign, true);
      emit_data(pos, std::move(text));
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
    fail_at(pos, "Missing end of raw directive");
  }

  size_t lex_tag(size_t pos, bool variable) {
    std::vector<char> balance;
    const size_t n = src_.size();
    while (pos < n) {
      if (balance.empty()) {
        size_t end = 0;
        bool matched = false;
        if (variable) {
          if (starts_with(pos, "-}}")) {
            end = skip_ws(pos + 3);
            matched = true;
          } else if (starts_with(pos, "}}")) {
            end = pos + 2;
            matched = true;
          }
        } else {
          matched = match_end(pos, '%', end);
        }
        if (matched) {
          push(variable ? Tok::kVarEnd : Tok::kBlockEnd, pos);
          line_starting_ = src_[end - 1] == '\n';
          return end;
        }
      }
      const size_t ws = skip_ws(pos);
      if (ws != pos) {
        pos = ws;
        continue;
      }
      const char c = src_[pos];
      if (is_digit(c) && (pos == 0 || src_[pos - 1] != '.')) {
        const size_t fend = match_float(pos);
        if (fend != 0) {
          push_float(pos, fend);
          pos = fend;
          continue;
        }
      }
      if (is_digit(c)) {
        pos = lex_integer(pos);
        continue;
      }
      if (is_name_start(pos)) {
        size_t end = pos;
        next_code_point(src_, end);
        while (end < n && is_name_continue(end)) next_code_point(src_, end);
        push(Tok::kName, pos, src_.substr(pos, end - pos));
        pos = end;
        continue;
      }
      if (c == '\'' || c == '"') {
        pos = lex_string(pos);
        continue;
      }
      pos = lex_operator(pos, balance);
    }
    return pos;  // end of input inside a tag: the parser reports it
  }

  bool is_name_start(size_t pos) const {
    const char c = src_[pos];
    if (static_cast<unsigned char>(c) < 0x80) return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    size_t i = pos;
    return py_isalpha(next_code_point(src_, i));
  }

  bool is_name_continue(size_t pos) const {
    const char c = src_[pos];
    if (static_cast<unsigned char>(c) < 0x80) return c == '_' || is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    size_t i = pos;
    return py_isalnum(next_code_point(src_, i));
  }

  // (\d+_)*\d+ ; returns the end, or `pos` when there is no digit.
  size_t scan_digits(size_t pos) const {
    if (pos >= src_.size() || !is_digit(src_[pos])) return pos;
    size_t q = pos;
    while (q < src_.size() && is_digit(src_[q])) ++q;
    while (q + 1 < src_.size() && src_[q] == '_' && is_digit(src_[q + 1])) {
      ++q;
      while (q < src_.size() && is_digit(src_[q])) ++q;
    }
    return q;
  }

  // jinja2 float_re; returns the end of the literal or 0.
  size_t match_float(size_t pos) const {
    const size_t int_end = scan_digits(pos);
    size_t frac_end = int_end;
    if (int_end < src_.size() && src_[int_end] == '.') {
      const size_t f = scan_digits(int_end + 1);
      if (f != int_end + 1) frac_end = f;
    }
    if (frac_end < src_.size() && (src_[frac_end] == 'e' || src_[frac_end] == 'E')) {
      size_t q = frac_end + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      const size_t e = scan_digits(q);
      if (e != q) return e;
    }
    return frac_end != int_end ? frac_end : 0;
  }

  void push_float(size_t pos, size_t end) {
    std::string digits;
    for (size_t i = pos; i < end; ++i) {
      if (src_[i] != '_') digits += src_[i];
    }
    double v = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (res.ec == std::errc::result_out_of_range) {
      // Python's float() overflows to inf and underflows to 0.0.
      v = digits.find("e-") != std::string::npos || digits.find("E-") != std::string::npos ? 0.0 : 1.0 / 0.0;
    }
    push(Tok::kFloat, pos);
    tokens_.back().fval = v;
  }

  size_t lex_integer(size_t pos) {
    int base = 10;
    size_t q = pos;
    const char p1 = pos + 1 < src_.size() ? static_cast<char>(src_[pos + 1] | 0x20) : 0;
    auto valid = [&](char ch, int b) {
      const char l = static_cast<char>(ch | 0x20);
      if (b == 2) return ch == '0' || ch == '1';
      if (b == 8) return ch >= '0' && ch <= '7';
      return is_digit(ch) || (l >= 'a' && l <= 'f');
    };
    if (src_[pos] == '0' && (p1 == 'b' || p1 == 'o' || p1 == 'x')) {
      const int b = p1 == 'b' ? 2 : (p1 == 'o' ? 8 : 16);
      size_t r = pos + 2;
      size_t last_good = 0;
      while (r < src_.size()) {
        if (src_[r] == '_' && r + 1 < src_.size() && valid(src_[r + 1], b)) {
          r += 2;
        } else if (valid(src_[r], b)) {
          ++r;
        } else {
          break;
        }
        last_good = r;
      }
      if (last_good != 0) {
        base = b;
        q = last_good;
      }
    }
    if (base == 10) {
      q = pos + 1;
      if (src_[pos] == '0') {
        // 0(_?0)*
        while (q < src_.size()) {
          if (src_[q] == '0') {
            ++q;
          } else if (src_[q] == '_' && q + 1 < src_.size() && src_[q + 1] == '0') {
            q += 2;
          } else {
            break;
          }
        }
      } else {
        q = scan_digits(pos);
      }
    }
    uint64_t value = 0;
    const size_t start = base == 10 ? pos : pos + 2;
    for (size_t i = start; i < q; ++i) {
      if (src_[i] == '_') continue;
      const char l = static_cast<char>(src_[i] | 0x20);
      const int d = is_digit(src_[i]) ? src_[i] - '0' : l - 'a' + 10;
      if (value > (static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
        fail_at(pos, "integer literal is too large");
      }
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    push(Tok::kInteger, pos);
    tokens_.back().ival = static_cast<int64_t>(value);
    return q;
  }

  size_t lex_string(size_t pos) {
    const char quote = src_[pos];
    size_t q = pos + 1;
    while (q < src_.size() && src_[q] != quote) {
      if (src_[q] == '\\') ++q;
      ++q;
    }
    if (q >= src_.size()) fail_at(pos, "unexpected char " + py_repr_str(std::string(1, quote)) + " at " + std::to_string(pos));
    push(Tok::kString, pos, unescape(std::string_view(src_).substr(pos + 1, q - pos - 1), pos));
    return q + 1;
  }

  // Python's "unicode-escape" codec applied after backslashreplace-encoding, as
  // jinja2's Lexer.wrap does for string literals.
  std::string unescape(std::string_view s, size_t pos) {
    std::string out;
    out.reserve(s.size());
    auto hex = [&](size_t i, int count, const char* what) -> char32_t {
      char32_t v = 0;
      for (int k = 0; k < count; ++k) {
        const char ch = i + k < s.size() ? s[i + k] : 0;
        const char l = static_cast<char>(ch | 0x20);
        int d = -1;
        if (is_digit(ch)) d = ch - '0';
        else if (l >= 'a' && l <= 'f') d = l - 'a' + 10;
        if (d < 0) fail_at(pos, std::string("truncated ") + what + " escape");
        v = v * 16 + static_cast<char32_t>(d);
      }
      return v;
    };
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\\') {
        const size_t start = i;
        next_code_point(s, i);
        out.append(s.substr(start, i - start));
        continue;
      }
      ++i;
      const char c = s[i];
      if (static_cast<unsigned char>(c) >= 0x80) {
        // The escaped character was replaced by \xNN/\uNNNN/\UNNNNNNNN before decoding,
        // so the backslash escapes itself and the replacement text stays literal.
        const char32_t cp = next_code_point(s, i);
        char buf[16];
        if (cp <= 0xFF) {
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
        } else if (cp <= 0xFFFF) {
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        } else {
          std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
        }
        out += buf;
        continue;
      }
      ++i;
      char32_t cp = 0;
      switch (c) {
        case '\n': continue;
        case '\\': out += '\\'; continue;
        case '\'': out += '\''; continue;
        case '"': out += '"'; continue;
        case 'a': out += '\a'; continue;
        case 'b': out += '\b'; continue;
        case 'f': out += '\f'; continue;
        case 'n': out += '\n'; continue;
        case 'r': out += '\r'; continue;
        case 't': out += '\t'; continue;
        case 'v': out += '\v'; continue;
        case 'x': cp = hex(i, 2, "\\xXX"); i += 2; break;
        case 'u': cp = hex(i, 4, "\\uXXXX"); i += 4; break;
        case 'U':
          cp = hex(i, 8, "\\UXXXXXXXX");
          i += 8;
          if (cp > 0x10FFFF) fail_at(pos, "illegal Unicode character");
          break;
        case 'N': fail_at(pos, "\\N{...} escapes are not supported");
        default:
          if (c >= '0' && c <= '7') {
            cp = static_cast<char32_t>(c - '0');
            for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k, ++i) cp = cp * 8 + (s[i] - '0');
            break;
          }
          out += '\\';  // unknown escapes keep their backslash
          out += c;
          continue;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) fail_at(pos, "surrogate code points are not supported in string literals");
      append_utf8(out, cp);
    }
    return out;
  }

  size_t lex_operator(size_t pos, std::vector<char>& balance) {
    static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo) {
      if (starts_with(pos, op)) {
        push(Tok::kOp, pos, op);
        return pos + 2;
      }
    }
    const char c = src_[pos];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      size_t i = pos;
      std::string ch;
      append_utf8(ch, next_code_point(src_, i));
      fail_at(pos, "unexpected char " + py_repr_str(ch) + " at " + std::to_string(pos));
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) fail_at(pos, std::string("unexpected '") + c + "'");
      if (balance.back() != c) fail_at(pos, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
      balance.pop_back();
    }
    push(Tok::kOp, pos, std::string(1, c));
    return pos + 1;
  }

  LexOptions opts_;
  std::string src_;
  std::vector<size_t> newlines_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexOptions& opts) {
  Lexer lexer(source, opts);
  return lexer.run();
}

}  // namespace pocket::jinja
