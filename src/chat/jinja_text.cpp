// Python-compatible text helpers; see jinja_text.h. Unicode properties come from utf8proc;
// the rules that combine them follow CPython (Objects/unicodeobject.c, Python/pystrtod.c).
#include "chat/jinja_text.h"

#include <utf8proc.h>

#include "core/utf8.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <iterator>
#include <cmath>
#include <cstdlib>

namespace pocket::jinja {

char32_t next_code_point(std::string_view s, size_t& i) {
  const int32_t cp = utf8_next(s, i);
  return cp < 0 ? 0xFFFD : static_cast<char32_t>(cp);
}

void append_utf8(std::string& out, char32_t cp) { utf8_append(out, cp); }

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out += next_code_point(s, i);
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool is_valid_utf8(std::string_view s) { return utf8_valid(s); }

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

size_t cp_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    // Count every byte that is not a continuation byte.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool py_isspace(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace table (Unicode White_Space + the ASCII separators).
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D:
    case 0x1E: case 0x1F: case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028:
    case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

static utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool py_isprintable(char32_t c) {
  if (c == ' ') return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

bool py_isalpha(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool py_isdigit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  // Decimal digits plus the superscript digits CPython also counts as digits.
  return category(c) == UTF8PROC_CATEGORY_ND || c == 0xB2 || c == 0xB3 || c == 0xB9 ||
         (c >= 0x2070 && c <= 0x2079 && c != 0x2071 && c != 0x2072 && c != 0x2073);
}

bool py_isalnum(char32_t c) {
  if (c < 0x80) return py_isalpha(c) || py_isdigit(c);
  if (py_isalpha(c)) return true;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

bool py_isword(char32_t c) { return c == '_' || py_isalnum(c); }

bool py_islower_char(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return category(c) == UTF8PROC_CATEGORY_LL;
}

bool py_isupper_char(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
}

bool py_iscased(char32_t c) { return py_islower_char(c) || py_isupper_char(c); }

static bool case_ignorable(char32_t c) {
  if (c == '\'' || c == '.' || c == ':' || c == '^' || c == '`' || c == 0xB7 || c == 0x2019) return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      return false;
  }
}

// Full (SpecialCasing.txt) mappings for the common characters whose case change is not
// one-to-one; everything else uses utf8proc's simple mapping.
static void append_upper(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  switch (c) {
    case 0xDF: out += "SS"; return;
    case 0x149: out += "\xCA\xBCN"; return;
    case 0xFB00: out += "FF"; return;
    case 0xFB01: out += "FI"; return;
    case 0xFB02: out += "FL"; return;
    case 0xFB03: out += "FFI"; return;
    case 0xFB04: out += "FFL"; return;
    case 0xFB05: case 0xFB06: out += "ST"; return;
    default: break;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
}

static void append_title(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  switch (c) {
    case 0xDF: out += "Ss"; return;
    case 0xFB00: out += "Ff"; return;
    case 0xFB01: out += "Fi"; return;
    case 0xFB02: out += "Fl"; return;
    case 0xFB03: out += "Ffi"; return;
    case 0xFB04: out += "Ffl"; return;
    case 0xFB05: case 0xFB06: out += "St"; return;
    default: break;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))));
}

// Lower-cases s[i], applying CPython's final-sigma rule (unicodeobject.c handle_capital_sigma).
static void append_lower_at(std::string& out, const std::u32string& s, size_t i) {
  const char32_t c = s[i];
  if (c < 0x80) {
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c == 0x130) {
    out += "i\xCC\x87";
    return;
  }
  if (c == 0x3A3) {
    size_t j = i;
    while (j > 0 && case_ignorable(s[j - 1])) --j;
    const bool before = j > 0 && py_iscased(s[j - 1]);
    size_t k = i + 1;
    while (k < s.size() && case_ignorable(s[k])) ++k;
    const bool after = k < s.size() && py_iscased(s[k]);
    append_utf8(out, before && !after ? 0x3C2 : 0x3C3);
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

std::string py_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) append_upper(out, next_code_point(s, i));
  return out;
}

std::string py_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  if (is_ascii(s)) {
    for (char c : s) out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
  }
  const std::u32string u = to_u32(s);
  for (size_t i = 0; i < u.size(); ++i) append_lower_at(out, u, i);
  return out;
}

std::string py_title(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  for (size_t i = 0; i < u.size(); ++i) {
    if (prev_cased) {
      append_lower_at(out, u, i);
    } else {
      append_title(out, u[i]);
    }
    prev_cased = py_iscased(u[i]);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 0) {
      append_title(out, u[i]);
    } else {
      append_lower_at(out, u, i);
    }
  }
  return out;
}

std::string py_swapcase(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (py_isupper_char(u[i])) {
      append_lower_at(out, u, i);
    } else if (py_islower_char(u[i])) {
      append_upper(out, u[i]);
    } else {
      append_utf8(out, u[i]);
    }
  }
  return out;
}

static void append_hex(std::string& out, uint32_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  for (int k = digits - 1; k >= 0; --k) out += kHex[(v >> (4 * k)) & 0xF];
}

std::string py_repr_str(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out += quote;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = next_code_point(s, i);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c < 0x7F || py_isprintable(c)) {
      append_utf8(out, c);
    } else if (c <= 0xFF) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c <= 0xFFFF) {
      out += "\\u";
      append_hex(out, c, 4);
    } else {
      out += "\\U";
      append_hex(out, c, 8);
    }
  }
  out += quote;
  return out;
}

std::string py_repr_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip digits, as CPython's repr (mode 0 of dtoa) produces.
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  size_t p = 0;
  if (sci[0] == '-') {
    out += '-';
    p = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t k = p; k < e; ++k) {
    if (sci[k] != '.') digits += sci[k];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::atoi(sci.c_str() + e + 1);
  const int decpt = exp10 + 1;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(decpt) - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt));
      out += '.';
      out += digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += 'e';
  out += exp10 < 0 ? '-' : '+';
  const int ae = exp10 < 0 ? -exp10 : exp10;
  if (ae < 10) out += '0';
  out += std::to_string(ae);
  return out;
}

namespace {

constexpr size_t kShortNeedle = 16;  // below this the naive search is at most 16 * n

template <typename CharT>
size_t find_impl(std::basic_string_view<CharT> hay, std::basic_string_view<CharT> needle, size_t from) {
  if (from > hay.size()) return std::basic_string_view<CharT>::npos;
  if (needle.size() <= kShortNeedle) return hay.find(needle, from);
  const auto it = std::search(hay.begin() + static_cast<long>(from), hay.end(),
                              std::boyer_moore_searcher(needle.begin(), needle.end()));
  return it == hay.end() ? std::basic_string_view<CharT>::npos : static_cast<size_t>(it - hay.begin());
}

template <typename CharT>
size_t rfind_impl(std::basic_string_view<CharT> hay, std::basic_string_view<CharT> needle, size_t end) {
  end = std::min(end, hay.size());
  if (needle.size() > end) return std::basic_string_view<CharT>::npos;
  if (needle.size() <= kShortNeedle) return hay.substr(0, end).rfind(needle);
  // Search the reversed needle in the reversed prefix.
  const auto rbegin = std::make_reverse_iterator(hay.begin() + static_cast<long>(end));
  const auto rend = std::make_reverse_iterator(hay.begin());
  const auto it = std::search(rbegin, rend, std::boyer_moore_searcher(needle.rbegin(), needle.rend()));
  if (it == rend) return std::basic_string_view<CharT>::npos;
  return end - static_cast<size_t>(it - rbegin) - needle.size();
}

}  // namespace

size_t find_sub(std::string_view hay, std::string_view needle, size_t from) { return find_impl(hay, needle, from); }
size_t rfind_sub(std::string_view hay, std::string_view needle, size_t end) { return rfind_impl(hay, needle, end); }
size_t find_sub32(std::u32string_view hay, std::u32string_view needle, size_t from) {
  return find_impl(hay, needle, from);
}
size_t rfind_sub32(std::u32string_view hay, std::u32string_view needle, size_t end) {
  return rfind_impl(hay, needle, end);
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
  if (chars == nullptr && is_ascii(s)) {
    size_t b = 0, e = s.size();
    auto ws = [](char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F); };
    if (left) {
      while (b < e && ws(s[b])) ++b;
    }
    if (right) {
      while (e > b && ws(s[e - 1])) --e;
    }
    return std::string(s.substr(b, e - b));
  }
  const std::u32string u = to_u32(s);
  std::u32string set;
  if (chars != nullptr) set = to_u32(*chars);
  auto strip_it = [&](char32_t c) {
    return chars == nullptr ? py_isspace(c) : set.find(c) != std::u32string::npos;
  };
  size_t b = 0, e = u.size();
  if (left) {
    while (b < e && strip_it(u[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(u[e - 1])) --e;
  }
  return to_utf8(std::u32string_view(u).substr(b, e - b));
}

}  // namespace pocket::jinja
