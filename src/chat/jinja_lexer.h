// Jinja lexer configured like Hugging Face transformers' environment: default delimiters,
// trim_blocks and lstrip_blocks on, keep_trailing_newline off. Whitespace control follows
// jinja2/lexer.py exactly, since chat templates depend on it byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pocket::jinja {

enum class Tok : uint8_t {
  kData,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInteger,
  kFloat,
  kOp,  // text holds the operator: + - * / // % ** ~ [ ] ( ) { } == != < <= > >= = . : | , ;
  kEof,
};

struct Token {
  Tok type = Tok::kEof;
  std::string text;  // data, name, decoded string literal, operator
  int64_t ival = 0;
  double fval = 0.0;
  int line = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Tokenizes a whole template; throws TemplateError on lexical errors.
std::vector<Token> tokenize(std::string_view source, const LexOptions& opts = {});

}  // namespace pocket::jinja
