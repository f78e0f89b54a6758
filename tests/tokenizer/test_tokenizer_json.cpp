// tokenizer.json path: SmolVLM2 / SmolLM2 tokenizers against Hugging Face's ids, decode, streaming,
// and small hand-written tokenizer.json files for the pipeline pieces the real files don't use.
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace pocket {
namespace {

using test::shared_path;

const Tokenizer& smolvlm2() {
  static const auto tok = Tokenizer::from_tokenizer_json(shared_path("tokenizers/smolvlm2/tokenizer.json"));
  return *tok;
}

TEST(TokenizerJson, SmolVLM2MatchesHuggingFace) {
  const Tokenizer& tok = smolvlm2();
  EXPECT_EQ(tok.n_vocab(), 49280);
  for (const auto& g : test::smolvlm2_goldens()) {
    EXPECT_EQ(tok.encode(g.text, false, true), g.ids) << "text: " << g.text;
    EXPECT_EQ(tok.decode(g.ids), g.decoded) << "text: " << g.text;
  }
}

TEST(TokenizerJson, SmolLM2SameIdsWithoutAddedTokens) {
  const auto tok = Tokenizer::from_tokenizer_json(shared_path("tokenizers/smollm2/tokenizer.json"));
  int checked = 0;
  for (const auto& g : test::smolvlm2_goldens()) {
    bool uses_added = false;
    for (int32_t id : g.ids) uses_added |= id >= 49152;
    if (uses_added) continue;
    EXPECT_EQ(tok->encode(g.text, false, true), g.ids) << "text: " << g.text;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(TokenizerJson, SpecialTokensAndEog) {
  const Tokenizer& tok = smolvlm2();
  EXPECT_FALSE(tok.add_bos_default());  // no post-processor
  ASSERT_TRUE(tok.token_id("<end_of_utterance>").has_value());
  EXPECT_EQ(*tok.token_id("<end_of_utterance>"), 49279);
  EXPECT_TRUE(tok.is_eog(49279));
  EXPECT_TRUE(tok.is_eog(*tok.token_id("<|im_end|>")));
  EXPECT_TRUE(tok.is_eog(*tok.token_id("<|endoftext|>")));
  EXPECT_FALSE(tok.is_eog(*tok.token_id("<image>")));
  EXPECT_EQ(tok.token_attr(49190), TokenAttr::Control);
  // Without parse_special the marker is ordinary text.
  const auto plain = tok.encode("<image>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(tok.decode(plain), "<image>");
  // skip_special drops control tokens.
  EXPECT_EQ(tok.decode({49190, 19556}, true), "Hello");
}

TEST(TokenizerJson, StreamDecoderHoldsBackSplitCharacters) {
  const Tokenizer& tok = smolvlm2();
  const std::string text = "emoji \xf0\x9f\x9a\x80\xf0\x9f\x94\xa5 test \xe6\x97\xa5\xe6\x9c\xac";
  const auto ids = tok.encode(text, false, true);
  StreamDecoder sd(tok);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = test::push(sd, id);
    // Every chunk handed out is complete UTF-8.
    size_t i = 0;
    while (i < piece.size()) {
      const auto b = static_cast<unsigned char>(piece[i]);
      const size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
      ASSERT_LE(i + n, piece.size()) << "incomplete character streamed";
      i += n;
    }
    out += piece;
  }
  out += test::flush(sd);
  EXPECT_EQ(out, text);
  // A dangling lead byte comes out as U+FFFD on flush.
  StreamDecoder sd2(tok);
  const auto rocket = tok.encode("\xf0\x9f\x9a\x80", false, false);
  ASSERT_GE(rocket.size(), 2u);
  EXPECT_EQ(test::push(sd2, rocket[0]), "");
  EXPECT_EQ(test::flush(sd2), "\xef\xbf\xbd");
}

TEST(TokenizerJson, RoundTripAndLongInputIsFast) {
  const Tokenizer& tok = smolvlm2();
  std::string text;
  const char* parts[] = {"The quick brown fox 123 jumps; ", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ",
                         "  spaces\tand\nnewlines ", "x=42;y=7 ", "<image>", "don't "};
  for (int i = 0; text.size() < 100000; ++i) text += parts[i % 6];
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok.encode(text, false, true);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_LT(secs, 1.0);
  // One long word without any split point must not be quadratic either.
  const std::string word(100000, 'a');
  const auto t1 = std::chrono::steady_clock::now();
  const auto wids = tok.encode(word, false, false);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count(), 1.0);
  EXPECT_EQ(tok.decode(wids), word);
}

// ---- hand-written tokenizer.json files ----

std::string byte_fallback_json() {
  // A Llama-2-style tokenizer: Metaspace pre-tokenizer, byte fallback, SentencePiece decoders.
  return R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true},
                     {"id": 1, "content": "<s>", "special": true},
                     {"id": 2, "content": "</s>", "special": true},
                     {"id": 12, "content": "[X]", "special": false, "normalized": false, "lstrip": true, "rstrip": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": false},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true,
      "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4, "\u2581": 5, "a": 6, "b": 7,
                "\u2581a": 8, "ab": 9, "\u2581ab": 10, "c": 11},
      "merges": ["\u2581 a", "a b", "\u2581a b"]}
  })";
}

TEST(TokenizerJson, ByteFallbackMetaspaceModel) {
  const auto tok = Tokenizer::from_tokenizer_json_text(byte_fallback_json());
  EXPECT_TRUE(tok->add_bos_default());
  EXPECT_EQ(tok->bos_id(), 1);
  // "ab ab" -> ▁ab▁ab with prepend_scheme first: ▁ a b ▁ a b -> ▁ab ▁ab (hand-derived).
  EXPECT_EQ(tok->encode("ab ab", false, false), (std::vector<int32_t>{10, 10}));
  EXPECT_EQ(tok->encode("ab ab", true, false), (std::vector<int32_t>{1, 10, 10}));
  // 'é' is not in the vocabulary: its bytes C3 A9 become <0xC3><0xA9>.
  EXPECT_EQ(tok->encode("\xc3\xa9", false, false), (std::vector<int32_t>{5, 3, 4}));
  EXPECT_EQ(tok->decode({5, 3, 4}), "\xc3\xa9");
  EXPECT_EQ(tok->decode({1, 10, 10}, true), "ab ab");
  // Added token with lstrip/rstrip swallows the spaces around it; the text after it is not
  // at the start of the input, so it gets no ▁ (prepend_scheme first).
  EXPECT_EQ(tok->encode("ab [X] ab", false, false), (std::vector<int32_t>{10, 12, 9}));
  // Streaming: the leading space of the first piece is dropped, later ones kept.
  StreamDecoder sd(*tok);
  std::string s = test::push(sd, 10);
  s += test::push(sd, 10);
  EXPECT_EQ(s, "ab ab");
}

TEST(TokenizerJson, SplitBehaviorsAndNormalizers) {
  auto make = [](const std::string& normalizer, const std::string& pre) {
    return R"({"added_tokens": [], "normalizer": )" + normalizer + R"(, "pre_tokenizer": )" + pre +
           R"(, "decoder": null, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "-": 2, " ": 3, "1": 4, "2": 5,
              "ab": 6, "e": 7, "\u0301": 8, "\u00e9": 9, "A": 10}, "merges": ["a b"]}})";
  };
  // Removed: the delimiter disappears.
  auto t = Tokenizer::from_tokenizer_json_text(
      make("null", R"({"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": false})"));
  EXPECT_EQ(t->encode("ab-a-b", false, false), (std::vector<int32_t>{6, 0, 1}));
  // MergedWithNext: "-" joins the following piece; "-a" is not mergeable.
  t = Tokenizer::from_tokenizer_json_text(
      make("null", R"({"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithNext", "invert": false})"));
  EXPECT_EQ(t->encode("a-b", false, false), (std::vector<int32_t>{0, 2, 1}));
  // MergedWithPrevious: "a-" and "b": ab cannot merge across pieces.
  t = Tokenizer::from_tokenizer_json_text(make(
      "null", R"({"type": "Split", "pattern": {"Regex": "-"}, "behavior": "MergedWithPrevious", "invert": false})"));
  EXPECT_EQ(t->encode("ab-ab", false, false), (std::vector<int32_t>{6, 2, 6}));
  // Contiguous digits stay together; individual digits would split too, same ids here.
  t = Tokenizer::from_tokenizer_json_text(make("null", R"({"type": "Digits", "individual_digits": false})"));
  EXPECT_EQ(t->encode("a12b", false, false), (std::vector<int32_t>{0, 4, 5, 1}));
  // Invert: keep the matches as pieces; "ab" merges inside a kept run.
  t = Tokenizer::from_tokenizer_json_text(
      make("null", R"({"type": "Split", "pattern": {"Regex": "[ab]+"}, "behavior": "Removed", "invert": true})"));
  EXPECT_EQ(t->encode("ab-ab", false, false), (std::vector<int32_t>{6, 6}));
  // WhitespaceSplit drops the spaces.
  t = Tokenizer::from_tokenizer_json_text(make("null", R"({"type": "WhitespaceSplit"})"));
  EXPECT_EQ(t->encode(" ab  b ", false, false), (std::vector<int32_t>{6, 1}));
  // NFD then NFC: é decomposes and recomposes; NFD alone yields e + U+0301.
  t = Tokenizer::from_tokenizer_json_text(make(R"({"type": "NFD"})", "null"));
  EXPECT_EQ(t->encode("\xc3\xa9", false, false), (std::vector<int32_t>{7, 8}));
  t = Tokenizer::from_tokenizer_json_text(
      make(R"({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "NFC"}]})", "null"));
  EXPECT_EQ(t->encode("e\xcc\x81", false, false), (std::vector<int32_t>{9}));
  // Lowercase + Replace + Strip.
  t = Tokenizer::from_tokenizer_json_text(make(
      R"({"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": true, "strip_right": true},
          {"type": "Lowercase"}, {"type": "Replace", "pattern": {"String": "-"}, "content": "b"}]})",
      "null"));
  EXPECT_EQ(t->encode("  A-  ", false, false), (std::vector<int32_t>{6}));
}

}  // namespace
}  // namespace pocket
