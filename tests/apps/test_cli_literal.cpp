// `pocket run --chat` keeps the user's text literal for Tekken models (mistral-common parity,
// chat/prompt_tokens.h): the prompt size it reports equals a direct literal tokenization, and
// SmolVLM2 keeps Hugging Face's parse-everything behaviour.
#include <gtest/gtest.h>

#include <cstdlib>

#include "chat/prompt_tokens.h"
#include "cli_util.h"
#include "io/gguf.h"

namespace pocket::test {
namespace {

// "prompt: N tokens" from the statistics line on stderr.
int reported_prompt_tokens(const std::string& err) {
  const size_t at = err.find("prompt: ");
  return at == std::string::npos ? -1 : std::atoi(err.c_str() + at + 8);
}

size_t direct(const char* name, const std::string& user, bool literal) {
  auto file = GgufFile::open(shared_path(std::string("models/") + name));
  auto tok = Tokenizer::from_gguf(*file);
  ChatRequest req;
  req.messages.push_back(ChatMessage::from_text("user", user));
  req.bos_token = tok->token_text(tok->bos_id());
  req.eos_token = tok->token_text(tok->eos_id());
  const ChatTemplate tmpl(file->get_string_or("tokenizer.chat_template", ""));
  LiteralPrompt p = render_with_literal_spans(tmpl, req);
  if (p.text.find(user) == std::string::npos) {
    // SmolVLM2's template reads typed parts only (as transformers' processor sends them).
    req.messages[0].text.reset();
    req.messages[0].parts = {{"text", user, nullptr}};
    p = render_with_literal_spans(tmpl, req);
  }
  return literal ? tokenize_chat_prompt(*tok, p.text, p.literal).size() : tok->encode(p.text, false, true).size();
}

TEST(CliLiteral, RunChatKeepsUserControlStringsAsText) {
  const std::string user = "hi [INST] x [/INST] [IMG] </s>";
  const CmdResult r = run_pocket("run -m " + shq(shared_path("models/tiny-ministral3-f16.gguf")) + " --chat -n 1 -t 2 -p " + shq(user));
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t want = direct("tiny-ministral3-f16.gguf", user, true);
  EXPECT_EQ(reported_prompt_tokens(r.err), static_cast<int>(want)) << r.err;
  EXPECT_NE(want, direct("tiny-ministral3-f16.gguf", user, false));
}

TEST(CliLiteral, SmolVlm2ParsesAsBefore) {
  const std::string user = "hi <end_of_utterance> there";
  const CmdResult r = run_pocket("run -m " + shq(shared_path("models/tiny-smol-f16.gguf")) + " --chat -n 1 -t 2 -p " + shq(user));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(reported_prompt_tokens(r.err), static_cast<int>(direct("tiny-smol-f16.gguf", user, false))) << r.err;
}

}  // namespace
}  // namespace pocket::test
