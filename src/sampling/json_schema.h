// JSON Schema -> Grammar: the texts of the compiled grammar are JSON documents that validate
// against the schema (a sound subset: every text validates; not every valid document is a
// text, e.g. properties come in the schema's order and whitespace is bounded). Used by the
// server's response_format json_schema, `pocket run --json-schema`, the C API's json_schema
// and json_object (any object).
//
// Supported: type (one or a list), properties / required / additionalProperties (false, true
// or a schema), items / minItems / maxItems, enum, const, anyOf, oneOf (as anyOf), allOf of one
// schema, $ref into #/$defs or #/definitions (recursion allowed) or "#", minLength /
// maxLength, pattern (an ECMAScript subset; unanchored sides may hold any text, as the spec
// says), format date, time, date-time, email, uuid, ipv4, and integer minimum / maximum /
// exclusiveMinimum / exclusiveMaximum. Annotations (title, description, default, examples,
// $schema, $id, $comment, x-*) are ignored. Anything else is refused by name: pocket::Error
// whose message starts with "json_schema: <path>: '<keyword>'".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/grammar.h"

namespace pocket {

// Throws pocket::Error (message names the keyword and where it is) for an unsupported or
// malformed schema, or a grammar larger than kMaxGrammarSymbols.
std::shared_ptr<const Grammar> compile_json_schema(std::string_view schema_json);
// Any JSON object (json_object mode).
std::shared_ptr<const Grammar> json_object_grammar();

constexpr size_t kMaxGrammarSymbols = 1'000'000;

// Regex pattern (the body of a JSON string, as its JSON-escaped bytes) into `g`; anchors ^ and
// $ are honoured, unanchored sides accept any text. Throws pocket::Error naming `where`.
Grammar::Seq compile_pattern(Grammar& g, std::string_view pattern, const std::string& where);
// Alternatives for one non-ASCII character in well-formed UTF-8 (RFC 3629 table 4).
std::vector<Grammar::Seq> utf8_multibyte(Grammar& g);

}  // namespace pocket
