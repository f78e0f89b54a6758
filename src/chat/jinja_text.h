// Python-compatible text helpers for the Jinja engine: UTF-8 decoding that never fails,
// code-point indexing, Python's notion of whitespace/printability/case, str repr() and
// float repr(). Templates must render byte-exactly as CPython does, so these follow
// CPython's rules (Objects/unicodeobject.c, Python/pystrtod.c) rather than the C locale.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pocket::jinja {

// Decodes one code point at s[i] and advances i. Invalid bytes decode as U+FFFD and
// advance by one byte, so every input terminates.
char32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t cp);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
bool is_valid_utf8(std::string_view s);
bool is_ascii(std::string_view s);
// Number of code points (Python len()).
size_t cp_length(std::string_view s);

// str.isspace(): Unicode White_Space as CPython defines it.
bool py_isspace(char32_t c);
// str.isprintable() for a single character (drives repr() escaping).
bool py_isprintable(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdigit(char32_t c);
bool py_isalnum(char32_t c);
bool py_iscased(char32_t c);
bool py_islower_char(char32_t c);
bool py_isupper_char(char32_t c);
// \w in Python's re module for str patterns.
bool py_isword(char32_t c);

// Case mapping with CPython's full (multi-character) special cases where they matter.
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize()
std::string py_swapcase(std::string_view s);

// repr() of a str: picks quotes and escapes exactly like CPython.
std::string py_repr_str(std::string_view s);
// repr()/str() of a float (shortest round-trip digits, CPython's exponent rules).
std::string py_repr_float(double v);

// Substring search in linear time (Boyer-Moore for long needles, as CPython's fastsearch
// avoids the quadratic worst case). Returns npos when absent. rfind_* finds the last
// occurrence lying entirely within hay[0, end).
size_t find_sub(std::string_view hay, std::string_view needle, size_t from = 0);
size_t rfind_sub(std::string_view hay, std::string_view needle, size_t end);
size_t find_sub32(std::u32string_view hay, std::u32string_view needle, size_t from = 0);
size_t rfind_sub32(std::u32string_view hay, std::u32string_view needle, size_t end);

// Strip helpers; chars == nullptr means "whitespace".
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);

}  // namespace pocket::jinja
