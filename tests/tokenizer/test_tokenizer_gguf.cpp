// GGUF path: the same SmolVLM2 goldens through tiny-smol's metadata, and llama.cpp's prompt ids for
// the golden text cases (pre-tokenizers smollm, gpt-2 and tekken).
#include <gtest/gtest.h>

#include <filesystem>

#include "io/gguf.h"
#include "io/gguf_writer.h"
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

// GPT-2's byte -> printable character map (openai/gpt-2 encoder.py bytes_to_unicode), written
// out here independently of the library.
std::string byte_char(int b) {
  int cp = b;
  if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) {
    int n = 0;
    for (int k = 0; k < b; ++k) {
      if (!((k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF))) ++n;
    }
    cp = 256 + n;
  }
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Byte-level vocabulary: id b is byte b, then whole words "'M", "123", "Ġok" and no merges, so
// the ids show exactly how the pre-tokenizer split the text (and ignore_merges picks whole words).
std::unique_ptr<Tokenizer> byte_vocab(const std::string& pre, std::vector<uint8_t>& storage) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_char(b));
  tokens.push_back("'M");
  tokens.push_back("123");
  tokens.push_back(byte_char(' ') + "ok");
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_string("tokenizer.ggml.merges", {});
  storage = w.to_bytes();
  const auto f = GgufFile::parse(storage.data(), storage.size());
  return Tokenizer::from_gguf(*f);
}

TEST(TokenizerGguf, PreTokenizerRegexesAndIgnoreMerges) {
  std::vector<uint8_t> storage;
  // llama-bpe: case-insensitive contractions, numbers in groups of three, ignore_merges.
  // Pieces: "I" "'M" " " "123" "45" " ok".
  const auto llama3 = byte_vocab("llama-bpe", storage);
  EXPECT_EQ(llama3->encode("I'M 12345 ok", false, false), (std::vector<int32_t>{'I', 256, ' ', 257, '4', '5', 258}));
  // gpt-2: contractions are lowercase only and numbers stay whole; no whole-word lookup.
  // Pieces: "I" "'" "M" " 12345" " ok".
  const auto gpt2 = byte_vocab("gpt-2", storage);
  EXPECT_EQ(gpt2->encode("I'M 12345 ok", false, false),
            (std::vector<int32_t>{'I', '\'', 'M', ' ', '1', '2', '3', '4', '5', ' ', 'o', 'k'}));
  // smollm: every digit is its own piece.
  const auto smol = byte_vocab("smollm", storage);
  EXPECT_EQ(smol->encode("a12", false, false), (std::vector<int32_t>{'a', '1', '2'}));
  EXPECT_EQ(llama3->decode({'I', 256, ' ', 257, '4', '5', 258}), "I'M 12345 ok");
}

}  // namespace
}  // namespace pocket
