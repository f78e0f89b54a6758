// Jinja parser: tokens -> syntax tree, mirroring jinja2/parser.py (operator precedence,
// tuple rules, test-argument rules) plus the loopcontrols extension and transformers'
// {% generation %} tag. Nesting is bounded so hostile templates cannot exhaust the stack.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace pocket::jinja {

// Deepest syntax-tree nesting accepted (expressions and blocks together).
inline constexpr int kMaxParseDepth = 256;

// Parses template source; throws TemplateError (with line) on syntax errors.
TemplateAst parse_template(std::string_view source);

}  // namespace pocket::jinja
