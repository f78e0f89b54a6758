// Reasoning models write their thinking between two control tokens before the answer
// ([THINK] ... [/THINK] for Mistral's reasoning models: Ministral-3-*-Reasoning-2512,
// Magistral). OpenAI-compatible servers return it apart from the answer (`reasoning_content`);
// this splits a reply's text as it streams in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pocket {

struct ReasoningFormat {
  std::string open;   // opens a thinking block
  std::string close;  // closes it

  // The format a chat template writes, if any: Mistral's [THINK]/[/THINK] when the template
  // writes them and the vocabulary has each as one token (ref: llama.cpp
  // models/templates/mistralai-Ministral-3-14B-Reasoning-2512.jinja; mistral-common's
  // ThinkChunk encoding). A template that writes thinking but a vocabulary without the tokens
  // is not a reasoning format (the text would be split into pieces, and never recognized).
  static std::optional<ReasoningFormat> detect(std::string_view chat_template, const Tokenizer& tok);
};

// Splits generated text into thinking and answer. Thinking ends at the close marker, or at one
// of `ends_thinking` (a tool call the model opens while thinking: the call belongs to the answer,
// where the tool-call parser sees it). Whitespace right after a thinking block is dropped, and
// markers that mean nothing where they stand (an open inside a block, a close outside one) are
// control tokens, never text. Text that may be the start of a marker is held back until the next
// feed or finish().
class ReasoningSplitter {
 public:
  // `thinking`: the reply starts inside a thinking block (its prompt ends with the open marker).
  ReasoningSplitter(ReasoningFormat f, std::vector<std::string> ends_thinking, bool thinking);

  struct Parts {
    std::string reasoning, content;
  };
  Parts feed(std::string_view text);
  Parts finish();
  bool thinking() const { return thinking_; }

 private:
  ReasoningFormat f_;
  std::vector<std::string> ends_;
  bool thinking_ = false;
  bool after_close_ = false;  // dropping the whitespace that follows a thinking block
  std::string held_;
};

}  // namespace pocket
