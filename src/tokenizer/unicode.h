// UTF-8 and Unicode helpers for the tokenizer: code point iteration that tolerates invalid
// bytes, the GPT-2 byte<->unicode table, Rust-compatible character classes (Hugging Face's
// tokenizers is written in Rust, so its char predicates are the reference), and utf8proc
// normalization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pocket::tok {

// Decodes one code point at text[i] and advances i. Invalid or truncated sequences consume
// one byte and return -1, so every byte of any input is visited exactly once.
int32_t next_cp(std::string_view text, size_t& i);
// Byte length of the (possibly invalid) sequence starting at text[i]: what next_cp consumes.
size_t cp_len_at(std::string_view text, size_t i);
void append_utf8(std::string& out, uint32_t cp);
bool is_valid_utf8(std::string_view text);
// Length of the invalid sequence at text[i] (where next_cp fails): the "maximal subpart" of
// Unicode's U+FFFD substitution practice, i.e. a truncated but well-formed prefix counts as one.
size_t invalid_run_len(std::string_view text, size_t i);
// Replaces each maximal invalid subpart with U+FFFD, as Rust's String::from_utf8_lossy does.
std::string sanitize_utf8(std::string_view text);

// GPT-2's reversible byte -> printable code point map (ref: openai/gpt-2 encoder.py bytes_to_unicode).
uint32_t byte_to_cp(uint8_t b);
// Inverse; -1 when the code point is not one of the 256 images.
int byte_from_cp(int32_t cp);
// Maps every byte of `bytes` through byte_to_cp.
std::string bytes_to_byte_level(std::string_view bytes);

// Character classes as Rust's char methods define them.
bool cp_is_whitespace(int32_t cp);   // char::is_whitespace (Unicode White_Space)
bool cp_is_numeric(int32_t cp);      // char::is_numeric (Nd, Nl, No)
bool cp_is_punctuation(int32_t cp);  // ASCII punctuation or general category P*
bool cp_is_word(int32_t cp);         // regex crate's \w: alphanumeric, marks, Pc

enum class NormForm { NFC, NFD, NFKC, NFKD };
std::string normalize_unicode(std::string_view text, NormForm form);
// Per-character full lowercase, as NormalizedString::lowercase does.
std::string lowercase(std::string_view text);

}  // namespace pocket::tok
