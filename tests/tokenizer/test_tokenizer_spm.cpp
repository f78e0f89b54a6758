// SentencePiece-style ("llama") GGUF vocabularies: a hand-built vocabulary with scores and byte
// tokens; expectations are derived by hand from llama.cpp's llm_tokenizer_spm_session algorithm
// (highest-scoring adjacent pair first, leftmost on ties; unknown pieces fall back to bytes).
#include <gtest/gtest.h>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "tokenizer_test_util.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

const char* const kSpace = "\xe2\x96\x81";  // U+2581

struct SpmFixture {
  std::vector<uint8_t> bytes;
  std::unique_ptr<GgufFile> file;
  std::unique_ptr<Tokenizer> tok;
};

// ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces below.
std::unique_ptr<SpmFixture> make_spm(bool add_space_prefix) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    snprintf(buf, sizeof(buf), "<0x%02X>", b);
    tokens.push_back(buf);
    scores.push_back(0);
    types.push_back(6);
  }
  const std::vector<std::pair<std::string, float>> pieces = {
      {kSpace, -10}, {"h", -10}, {"e", -10},  {"l", -10},   {"o", -10},   {"he", -3},
      {"ll", -2},    {"lo", -1}, {"llo", -4}, {"hello", -0.5f}, {std::string(kSpace) + "h", -5},
      {std::string(kSpace) + "he", -6}};
  for (const auto& [text, score] : pieces) {
    tokens.push_back(text);
    scores.push_back(score);
    types.push_back(1);
  }
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_bool("tokenizer.ggml.add_space_prefix", add_space_prefix);
  auto fx = std::make_unique<SpmFixture>();
  fx->bytes = w.to_bytes();
  fx->file = GgufFile::parse(fx->bytes.data(), fx->bytes.size());
  fx->tok = Tokenizer::from_gguf(*fx->file);
  return fx;
}

constexpr int32_t kSp = 259, kL = 262, kLL = 265, kHello = 268, kSpH = 269;
constexpr int32_t byte_id(int b) { return 3 + b; }

TEST(TokenizerSpm, ScoresDecideMergeOrder) {
  const auto fx = make_spm(true);
  const Tokenizer& tok = *fx->tok;
  // ▁ h e l l o: "lo" (-1) beats "ll" (-2), then "he" (-3), "llo" (-4), "hello" (-0.5);
  // "▁hello" is not a piece, so ▁ stays alone.
  EXPECT_EQ(tok.encode("hello", false, false), (std::vector<int32_t>{kSp, kHello}));
  EXPECT_TRUE(tok.add_bos_default());
  EXPECT_EQ(tok.encode("hello", true, false), (std::vector<int32_t>{1, kSp, kHello}));
  // Equal scores: the leftmost pair merges first (▁ ll l, not ▁ l ll).
  EXPECT_EQ(tok.encode("lll", false, false), (std::vector<int32_t>{kSp, kLL, kL}));
}

TEST(TokenizerSpm, ByteFallbackAndDecode) {
  const auto fx = make_spm(true);
  const Tokenizer& tok = *fx->tok;
  const std::vector<int32_t> ids = {kSpH, byte_id(0xC3), byte_id(0xA9)};
  EXPECT_EQ(tok.encode("h\xc3\xa9", false, false), ids);
  EXPECT_EQ(tok.decode(ids), "h\xc3\xa9");
  EXPECT_EQ(tok.token_attr(byte_id(0xC3)), TokenAttr::Byte);
  // A character split over two byte tokens streams out whole.
  StreamDecoder sd(tok);
  EXPECT_EQ(test::push(sd, ids[0]), "h");
  EXPECT_EQ(test::push(sd, ids[1]), "");
  EXPECT_EQ(test::push(sd, ids[2]), "\xc3\xa9");
  EXPECT_EQ(test::flush(sd), "");
}

TEST(TokenizerSpm, SpecialTokensAndSpacePrefix) {
  const auto fx = make_spm(true);
  const Tokenizer& tok = *fx->tok;
  // Text after a special token gets the space prefix again (llama.cpp is_prev_special).
  EXPECT_EQ(tok.encode("<s>hello", false, true), (std::vector<int32_t>{1, kSp, kHello}));
  EXPECT_EQ(tok.decode({1, kSp, kHello}), "<s> hello");
  EXPECT_EQ(tok.decode({1, kSp, kHello}, true), "hello");
  EXPECT_TRUE(tok.is_eog(2));
  // Without the prefix option the word is one piece.
  const auto fx2 = make_spm(false);
  EXPECT_EQ(fx2->tok->encode("hello", false, false), (std::vector<int32_t>{kHello}));
  EXPECT_EQ(fx2->tok->decode({kSp, kHello}), " hello");
}

}  // namespace
}  // namespace pocket
