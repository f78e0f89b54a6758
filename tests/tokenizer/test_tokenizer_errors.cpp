// Malformed tokenizer.json texts and GGUF vocabulary metadata must throw pocket::Error.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

std::string bpe_json(const std::string& vocab, const std::string& merges, const std::string& extra = "") {
  return R"({"added_tokens": [], )" + extra + R"("model": {"type": "BPE", "vocab": )" + vocab +
         R"(, "merges": )" + merges + "}}";
}

TEST(TokenizerErrors, MalformedTokenizerJson) {
  const std::string good_vocab = R"({"a": 0, "b": 1, "ab": 2})";
  EXPECT_NO_THROW(Tokenizer::from_tokenizer_json_text(bpe_json(good_vocab, R"(["a b"])")));
  const std::vector<std::string> bad = {
      "",
      "{not json",
      "[]",
      "{}",
      R"({"model": 3})",
      R"({"model": {"type": "WordPiece", "vocab": {}}})",
      bpe_json("[]", "[]"),
      bpe_json(R"({"a": "zero"})", "[]"),
      bpe_json(R"({"a": -1})", "[]"),
      bpe_json(R"({"a": 99999999999})", "[]"),
      bpe_json("{}", "[]"),
      bpe_json(good_vocab, R"(["a c"])"),          // unknown token in merge
      bpe_json(R"({"a": 0, "b": 1})", R"(["a b"])"),  // merge result not in vocab
      bpe_json(good_vocab, R"(["ab"])"),           // no space
      bpe_json(good_vocab, R"([["a"]])"),
      bpe_json(good_vocab, R"("a b")"),
      bpe_json(good_vocab, "[]", R"("pre_tokenizer": {"type": "Nope"}, )"),
      bpe_json(good_vocab, "[]", R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}}, )"),
      bpe_json(good_vocab, "[]", R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}, )"),
      bpe_json(good_vocab, "[]", R"("normalizer": {"type": "Replace", "pattern": {"String": 1}, "content": "x"}, )"),
      bpe_json(good_vocab, "[]", R"("decoder": {"type": "Strip", "content": "ab", "start": 1, "stop": 0}, )"),
      bpe_json(good_vocab, "[]", R"("post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}], "special_tokens": {}}, )"),
      R"({"added_tokens": [{"id": 5000000, "content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})",
      R"({"added_tokens": [{"id": 1, "content": ""}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})",
      R"({"added_tokens": {"id": 1}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})",
  };
  for (const auto& text : bad) {
    EXPECT_THROW(Tokenizer::from_tokenizer_json_text(text), Error) << text;
  }
  // Deeply nested sequences are refused rather than recursed into.
  std::string nested = R"({"type": "ByteLevel"})";
  for (int i = 0; i < 40; ++i) nested = R"({"type": "Sequence", "pretokenizers": [)" + nested + "]}";
  EXPECT_THROW(Tokenizer::from_tokenizer_json_text(bpe_json(good_vocab, "[]", R"("pre_tokenizer": )" + nested + ", ")),
               Error);
  EXPECT_THROW(Tokenizer::from_tokenizer_json("/nonexistent/tokenizer.json"), Error);
}

// A valid byte-level vocabulary whose metadata the cases below break one key at a time.
struct GgufCase {
  std::function<void(GgufWriter&)> edit;
  bool skip_types = false, skip_model = false, skip_merges = false, skip_pre = false;
};

std::unique_ptr<Tokenizer> load(const GgufCase& c) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  if (!c.skip_model) w.set_string("tokenizer.ggml.model", "gpt2");
  if (!c.skip_pre) w.set_string("tokenizer.ggml.pre", "gpt-2");
  w.set_array_string("tokenizer.ggml.tokens", {"a", "b", "ab", "<s>"});
  if (!c.skip_types) w.set_array_i32("tokenizer.ggml.token_type", {1, 1, 1, 3});
  if (!c.skip_merges) w.set_array_string("tokenizer.ggml.merges", {"a b"});
  if (c.edit) c.edit(w);
  const auto bytes = w.to_bytes();
  const auto f = GgufFile::parse(bytes.data(), bytes.size());
  return Tokenizer::from_gguf(*f);
}

TEST(TokenizerErrors, MalformedGgufVocab) {
  const auto ok = load({});
  EXPECT_EQ(ok->encode("ab<s>", false, true), (std::vector<int32_t>{2, 3}));
  const std::vector<GgufCase> bad = {
      {nullptr, false, true, false},  // no tokenizer.ggml.model
      {nullptr, false, false, true},  // gpt2 without merges
      {[](GgufWriter& w) { w.set_array_i32("tokenizer.ggml.token_type", {1, 1}); }, true},
      {[](GgufWriter& w) { w.set_array_f32("tokenizer.ggml.scores", {0.f}); }},
      {[](GgufWriter& w) { w.set_u32("tokenizer.ggml.bos_token_id", 4); }},
      {[](GgufWriter& w) { w.set_i32("tokenizer.ggml.eos_token_id", -2); }},
      {[](GgufWriter& w) { w.set_u32("tokenizer.ggml.eot_token_id", 1000); }},
      {[](GgufWriter& w) { w.set_array_string("tokenizer.ggml.merges", {"a c"}); }, false, false, true},
      {[](GgufWriter& w) { w.set_array_string("tokenizer.ggml.merges", {"ab"}); }, false, false, true},
      {[](GgufWriter& w) { w.set_array_i32("tokenizer.ggml.merges", {1}); }, false, false, true},
      {[](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "bert"); }, false, true},
      {[](GgufWriter& w) { w.set_string("tokenizer.ggml.pre", "no-such-pre"); }, false, false, false, true},
      {[](GgufWriter& w) { w.set_bool("tokenizer.ggml.add_bos_token", true); }},  // no bos id
      {[](GgufWriter& w) { w.set_string("tokenizer.ggml.token_type", "x"); }, true},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_THROW(load(bad[i]), Error) << "case " << i;
  }
}

}  // namespace
}  // namespace pocket
