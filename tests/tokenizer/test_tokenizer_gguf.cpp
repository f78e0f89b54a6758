// GGUF path: the same SmolVLM2 goldens through tiny-smol's metadata, and llama.cpp's prompt ids for
// the golden text cases (pre-tokenizers smollm, gpt-2 and tekken).
#include <gtest/gtest.h>

#include <filesystem>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace pocket {
namespace {

using test::shared_path;

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& model) {
  const auto f = GgufFile::open(shared_path("models/" + model));
  return Tokenizer::from_gguf(*f);
}

TEST(TokenizerGguf, SmolVLM2MatchesHuggingFace) {
  const auto tok = load_gguf_tokenizer("tiny-smol-q8_0.gguf");
  EXPECT_EQ(tok->n_vocab(), 49280);
  for (const auto& g : test::smolvlm2_goldens()) {
    EXPECT_EQ(tok->encode(g.text, false, true), g.ids) << "text: " << g.text;
    EXPECT_EQ(tok->decode(g.ids), g.decoded) << "text: " << g.text;
  }
}

TEST(TokenizerGguf, SmolVocabSpecials) {
  const auto tok = load_gguf_tokenizer("tiny-smol-q8_0.gguf");
  EXPECT_FALSE(tok->add_bos_default());
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 49279);
  EXPECT_TRUE(tok->is_eog(49279));  // eos = <end_of_utterance>
  EXPECT_TRUE(tok->is_eog(2));      // <|im_end|>
  EXPECT_TRUE(tok->is_eog(0));      // <|endoftext|>
  EXPECT_FALSE(tok->is_eog(1));
  // User-defined tokens (<image>) are matched even without parse_special; control ones are not.
  EXPECT_EQ(tok->encode("<image>", false, false), (std::vector<int32_t>{49190}));
  EXPECT_GT(tok->encode("<|im_start|>", false, false).size(), 1u);
  EXPECT_EQ(tok->decode({1, 19556}, true), "Hello");
}

TEST(TokenizerGguf, GoldenTextPromptIds) {
  int n_cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared_path("golden/text"))) {
    if (entry.path().extension() != ".json") continue;
    const auto g = test::load_json(entry.path().string());
    if (!g.contains("text")) continue;
    const auto tok = load_gguf_tokenizer(g.at("model").get<std::string>());
    const auto expected = g.at("prompt_ids").get<std::vector<int32_t>>();
    const std::string text = g.at("text").get<std::string>();
    EXPECT_EQ(tok->encode(text, tok->add_bos_default(), true), expected) << entry.path().filename();
    ++n_cases;
  }
  EXPECT_GE(n_cases, 8);
}

}  // namespace
}  // namespace pocket
