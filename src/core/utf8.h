// UTF-8 decoding and encoding shared by the tokenizer and the Jinja engine. Strict: overlong
// forms, surrogates, values past U+10FFFF and truncated sequences are invalid (as Python's and
// Rust's decoders treat them), and an invalid byte is consumed alone so callers can resync.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pocket {

// Decodes the code point at s[i] and advances i past it. Returns -1 (and advances by one
// byte) when the bytes at i are not valid UTF-8. Precondition: i < s.size().
inline int32_t utf8_next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int n = 0;  // continuation bytes
  uint32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return -1;
  }
  if (i + static_cast<size_t>(n) >= s.size()) {
    ++i;
    return -1;
  }
  for (int k = 1; k <= n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += static_cast<size_t>(n) + 1;
  return static_cast<int32_t>(cp);
}

// Appends the UTF-8 encoding of cp (<= U+10FFFF).
inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline bool utf8_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();)
    if (utf8_next(s, i) < 0) return false;
  return true;
}

}  // namespace pocket
