// Chat prompt -> token ids with caller text kept literal.
//
// A chat prompt is rendered to text and then tokenized. Hugging Face tokenizers (and
// llama.cpp with parse_special) turn every control-token string in that text into a control
// token, including strings a user typed: "[INST]" in a message would open a new turn.
// mistral-common, the reference for Tekken vocabularies (Ministral 3, Pixtral, Nemo),
// encodes message text as ordinary bytes and inserts control tokens by id only
// (docs: ministral-spec.md §3.1, pitfall 8). For such tokenizers
// (Tokenizer::literal_control_text()) this module finds where the caller's strings sit in
// the rendered text ("literal spans") and tokenizes with special-token parsing switched off
// inside them; the template's own markers ([INST], [/INST], [SYSTEM_PROMPT], image
// placeholders, ...) still become control tokens. Other tokenizers keep the HF behaviour
// (ref: huggingface/tokenizers tokenizers/src/tokenizer/added_vocabulary.rs find_matches:
// special tokens are split out of any input unless encode_special_tokens, default false).
//
//   LiteralPrompt p = render_with_literal_spans(tmpl, request);
//   std::vector<int32_t> ids = tokenize_chat_prompt(tok, p.text, p.literal);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

struct LiteralPrompt {
  std::string text;               // the rendering, exactly as ChatTemplate::render gives it
  std::vector<TextSpan> literal;  // caller text inside `text`: sorted, disjoint
  size_t n_pieces = 0;            // non-empty caller strings in the request
  size_t n_unlocated = 0;         // caller strings not found in `text` (tokenized as before)
  bool aligned = false;           // spans come from the template's structure (not a text search)
};

// Every caller-supplied string of a request (message text and text parts, tool-call names,
// ids and arguments — string values and keys of an arguments object —, tool results, tool
// schema strings except their "type" enums), in visiting order. Empty strings are skipped.
std::vector<std::string> caller_strings(const ChatRequest& request);

// Renders the request and locates its caller strings. The template is rendered a second time
// with each caller string replaced by a unique marker; the text between markers is the
// template's own, so each caller string's position follows exactly (as rendered, JSON-escaped
// when the template writes it with tojson, or whitespace-trimmed). When that structure does
// not line up (a template that branches on the text itself), each string is searched for in
// order instead; one not found is counted in n_unlocated and left to special parsing.
// Errors of the first rendering propagate as from ChatTemplate::render; a clock is fixed so
// both renderings see the same time.
LiteralPrompt render_with_literal_spans(const ChatTemplate& tmpl, const ChatRequest& request,
                                        const ChatRenderOptions& options = {});

// Text search only: each piece (as is, JSON-escaped, or trimmed) is looked for after the
// previous one found. For callers that know the caller strings but not the request.
std::vector<TextSpan> locate_literal_spans(std::string_view text, const std::vector<std::string>& pieces,
                                           size_t* n_unlocated = nullptr);

// The model's policy: literal spans for Tekken vocabularies, encode(text, false, true)
// (today's behaviour, every special string parsed) for the others. No BOS is added: chat
// templates write it themselves.
std::vector<int32_t> tokenize_chat_prompt(const Tokenizer& tok, std::string_view text,
                                          const std::vector<TextSpan>& literal);

}  // namespace pocket
