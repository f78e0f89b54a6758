// Thinking apart from the answer (chat/reasoning.h). Expected splits are written out by hand
// from the format's definition: [THINK] opens a block, [/THINK] closes it, whitespace after a
// block is not part of the answer, a tool call opened while thinking belongs to the answer, and
// a marker that means nothing where it stands (open inside, close outside) is dropped.
// Every case is also fed one byte at a time (markers split across feeds) with the same result.
#include <gtest/gtest.h>

#include <memory>

#include "chat/reasoning.h"
#include "io/gguf.h"
#include "test_util.h"

namespace pocket {
namespace {

const ReasoningFormat kThink{"[THINK]", "[/THINK]"};

struct Split {
  std::string reasoning, content;
};

Split run(const std::string& text, bool starts_thinking, size_t step, std::vector<std::string> ends = {"[TOOL_CALLS]"}) {
  ReasoningSplitter s(kThink, std::move(ends), starts_thinking);
  Split out;
  for (size_t i = 0; i < text.size(); i += step) {
    ReasoningSplitter::Parts p = s.feed(std::string_view(text).substr(i, step));
    out.reasoning += p.reasoning;
    out.content += p.content;
  }
  ReasoningSplitter::Parts p = s.finish();
  out.reasoning += p.reasoning;
  out.content += p.content;
  return out;
}

TEST(Reasoning, SplitsThinkingFromTheAnswer) {
  struct Case {
    const char* text;
    bool starts_thinking;
    const char* reasoning;
    const char* content;
  };
  const Case cases[] = {
      {"Just an answer.", false, "", "Just an answer."},
      {"[THINK]Two plus two.[/THINK]\n\nIt is 4.", false, "Two plus two.", "It is 4."},
      {"Two plus two.[/THINK] It is 4.", true, "Two plus two.", "It is 4."},
      {"[THINK]still going", false, "still going", ""},  // cut off while thinking
      {"[THINK]a[/THINK]b[THINK]c[/THINK]d", false, "ac", "bd"},
      {"[THINK]I need the weather.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", false, "I need the weather.",
       "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}"},
      {"[THINK]ok[/THINK][TOOL_CALLS]f[ARGS]{}", false, "ok", "[TOOL_CALLS]f[ARGS]{}"},
      {"A [THINK literal bracket [/THIN and more", false, "", "A [THINK literal bracket [/THIN and more"},
      {"[THINK][/THINK]   ", false, "", ""},
      // Markers that mean nothing where they stand are control tokens, not text.
      {"[THINK]x[THINK]y[/THINK]z[/THINK]w", false, "xy", "zw"},
      {"[THINK][THINK][THINK]", true, "", ""},
      {"", true, "", ""},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{1}, size_t{3}, size_t{1000}}) {
      SCOPED_TRACE(std::string(c.text) + " step " + std::to_string(step));
      const Split s = run(c.text, c.starts_thinking, step);
      EXPECT_EQ(s.reasoning, c.reasoning);
      EXPECT_EQ(s.content, c.content);
    }
  }
  // Without a tool-call format, [TOOL_CALLS] is thinking text like any other.
  const Split s = run("[THINK]a[TOOL_CALLS]b[/THINK]c", false, 1, {});
  EXPECT_EQ(s.reasoning, "a[TOOL_CALLS]b");
  EXPECT_EQ(s.content, "c");
}

TEST(Reasoning, DetectedFromTheTemplateAndTheVocabulary) {
  // The tiny Ministral 3 has [THINK] and [/THINK] as single tokens (ids 34 and 35, as the
  // reasoning-capable Tekken vocabulary); SmolVLM2's vocabulary has neither.
  const auto ministral = GgufFile::open(test::shared_path("models/tiny-ministral3-f16.gguf"));
  const auto smol = GgufFile::open(test::shared_path("models/tiny-smol-f16.gguf"));
  const std::unique_ptr<Tokenizer> mt = Tokenizer::from_gguf(*ministral), st = Tokenizer::from_gguf(*smol);
  const std::string reasoning_template = "{{ bos_token }}[SYSTEM_PROMPT]Think inside [THINK]...[/THINK].[/SYSTEM_PROMPT]";
  const auto f = ReasoningFormat::detect(reasoning_template, *mt);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->open, "[THINK]");
  EXPECT_EQ(f->close, "[/THINK]");
  EXPECT_EQ(mt->token_id("[THINK]"), 34);
  EXPECT_FALSE(ReasoningFormat::detect(ministral->get_string_or("tokenizer.chat_template", ""), *mt).has_value())
      << "the tiny model's own template is the instruct one";
  EXPECT_FALSE(ReasoningFormat::detect(reasoning_template, *st).has_value());
}

}  // namespace
}  // namespace pocket
