// Multimodal prompts end to end: image token layout and counts equal the reference
// processors' (golden/preprocess), generation with one and two images is deterministic,
// and mismatched placeholders fail cleanly.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "chat/chat.h"
#include "chat/prompt_tokens.h"
#include "core/error.h"
#include "runtime/prompt.h"
#include "test_util.h"

namespace pocket {
namespace {

struct Pair {
  const char* text;
  const char* mmproj;
  const char* golden_dir;
  const char* placeholder_prompt;  // rendered user turn with placeholders, model's format
};

PromptMedia of(std::vector<Image> images, std::vector<SmolVlmVideo> videos = {}) {
  PromptMedia m;
  m.images = std::move(images);
  m.videos = std::move(videos);
  return m;
}

std::vector<int32_t> greedy(Engine& e, const Prompt& p, int n) {
  Session s(e, SessionOptions{8192, 256});
  GenerateOptions go;
  go.max_tokens = n;
  go.sampling.temperature = 0;
  go.stop_at_eog = false;
  return s.generate(p.tokens, go, p.embd_or_null()).tokens;
}

TEST(Multimodal, SmolVlm2LayoutMatchesProcessor) {
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"), eo);
  auto enc = VisionEncoder::load(test::shared_path("models/smolvlm2-small-tiny-mmproj.gguf"));
  const auto golden = nlohmann::json::parse(test::read_text(test::shared_path("golden/preprocess/smolvlm2-small/photo_1920x1080.json")));
  std::vector<Image> images = {enc->load_image_file(test::shared_path("images/photo_1920x1080.jpg"))};
  const std::string rendered = "<|im_start|>User:<image>What is this?<end_of_utterance>\nAssistant:";
  Prompt p = tokenize_prompt(*engine, enc.get(), rendered, {}, of(images), engine->pool());
  EXPECT_EQ(p.n_image_tokens, golden["num_image_tokens"].get<int64_t>());
  EXPECT_EQ(p.n_tiles, golden["num_tiles"].get<int64_t>());
  EXPECT_NE(p.text.find(golden["prompt"].get<std::string>()), std::string::npos);
  // Deterministic greedy answers, with one and with two images.
  const auto a1 = greedy(*engine, p, 8), a2 = greedy(*engine, p, 8);
  EXPECT_EQ(a1, a2);
  images.push_back(enc->load_image_file(test::shared_path("images/gray_640x480.png")));
  Prompt p2 = tokenize_prompt(*engine, enc.get(), "<|im_start|>User:<image><image>Compare.<end_of_utterance>\nAssistant:",
                              {}, of(images), engine->pool());
  const auto g2 = nlohmann::json::parse(test::read_text(test::shared_path("golden/preprocess/smolvlm2-small/gray_640x480.json")));
  EXPECT_EQ(p2.n_image_tokens, golden["num_image_tokens"].get<int64_t>() + g2["variant_rgb_input"]["num_image_tokens"].get<int64_t>());
  EXPECT_EQ(greedy(*engine, p2, 8), greedy(*engine, p2, 8));
  EXPECT_NE(greedy(*engine, p2, 8), a1);
}

TEST(Multimodal, PixtralLayoutMatchesMistralCommon) {
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-ministral3-f16.gguf"), eo);
  auto enc = VisionEncoder::load(test::shared_path("models/tiny-pixtral-mmproj.gguf"));
  const auto golden = nlohmann::json::parse(test::read_text(test::shared_path("golden/preprocess/pixtral/tiny_32x24.json")));
  std::vector<Image> images = {enc->load_image_file(test::shared_path("images/tiny_32x24.png"))};
  Prompt p = tokenize_prompt(*engine, enc.get(), "<s>[INST][IMG]Describe.[/INST]", {}, of(images), engine->pool());
  EXPECT_EQ(p.n_image_tokens, golden["num_img_tokens"].get<int64_t>());
  // The image's token ids ([IMG]/[IMG_BREAK]/[IMG_END]) equal mistral-common's, in order.
  // `tokens` is the layout as text ("[IMG][IMG][IMG_END]"), `token_ids` maps names to ids.
  std::vector<int32_t> want;
  const std::string layout = golden["tokens"].get<std::string>();
  for (size_t i = 0; i < layout.size();) {
    const size_t j = layout.find(']', i);
    ASSERT_NE(j, std::string::npos);
    want.push_back(golden["token_ids"][layout.substr(i, j + 1 - i)].get<int32_t>());
    i = j + 1;
  }
  EXPECT_EQ(static_cast<int64_t>(want.size()), golden["num_tokens"].get<int64_t>());
  const std::vector<int32_t> got(p.tokens.begin() + 2, p.tokens.begin() + 2 + static_cast<long>(want.size()));
  EXPECT_EQ(got, want);
  EXPECT_EQ(greedy(*engine, p, 8), greedy(*engine, p, 8));
}

// mistral-common never turns message text into control tokens: a user typing "[IMG]" with
// Ministral 3 gets those bytes, not an image slot (before, the placeholder count failed).
TEST(Multimodal, PixtralUserTextPlaceholderStaysText) {
  auto engine = Engine::load(test::shared_path("models/tiny-ministral3-f16.gguf"));
  auto enc = VisionEncoder::load(test::shared_path("models/tiny-pixtral-mmproj.gguf"));
  const Tokenizer& tok = engine->tokenizer();
  const auto golden = nlohmann::json::parse(test::read_text(test::shared_path("golden/preprocess/pixtral/tiny_32x24.json")));
  std::vector<Image> images = {enc->load_image_file(test::shared_path("images/tiny_32x24.png"))};
  const std::string user = "Describe [IMG] and [INST] please";
  ChatRequest req;
  ChatMessage m;
  m.role = "user";
  m.parts = {{"image", "", nullptr}, {"text", user, nullptr}};
  req.messages.push_back(m);
  req.bos_token = "<s>";
  const LiteralPrompt r = render_with_literal_spans(ChatTemplate(engine->chat_template()), req);
  ASSERT_EQ(r.literal.size(), 1u);
  EXPECT_THROW(tokenize_prompt(*engine, enc.get(), r.text, {}, of(images), engine->pool()), Error);  // parsed as before
  const Prompt p = tokenize_prompt(*engine, enc.get(), r.text, r.literal, of(images), engine->pool());
  EXPECT_EQ(p.n_image_tokens, golden["num_img_tokens"].get<int64_t>());
  const int32_t img = *tok.token_id("[IMG]");
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), img), p.n_image_tokens);
  const std::vector<int32_t> text_ids = tok.encode(user, false, false);
  EXPECT_NE(std::search(p.tokens.begin(), p.tokens.end(), text_ids.begin(), text_ids.end()), p.tokens.end());
  EXPECT_EQ(p.tokens.back(), *tok.token_id("[/INST]"));
}

// SmolVLM2 keeps Hugging Face's behaviour: literal ranges change nothing.
TEST(Multimodal, SmolVlm2IgnoresLiteralRanges) {
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"));
  auto enc = VisionEncoder::load(test::shared_path("models/smolvlm2-small-tiny-mmproj.gguf"));
  std::vector<Image> images = {enc->load_image_file(test::shared_path("images/tiny_32x24.png"))};
  const std::string rendered = "<|im_start|>User:<image>What is <end_of_utterance> this?<end_of_utterance>\nAssistant:";
  const size_t at = rendered.find("What");
  const std::vector<TextSpan> literal = {{at, at + 32}};
  EXPECT_EQ(tokenize_prompt(*engine, enc.get(), rendered, literal, of(images), engine->pool()).tokens,
            tokenize_prompt(*engine, enc.get(), rendered, {}, of(images), engine->pool()).tokens);
}

TEST(Multimodal, SmolVlm2VideoEndToEnd) {
  ASSERT_EQ(std::system("ffmpeg -version > /dev/null 2>&1"), 0) << "the ffmpeg CLI is missing: run scripts/setup";
  const std::string clip = test::binary_path("mm_clip_3s.mp4");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i testsrc2=size=160x120:rate=10 -t 3 -c:v mpeg4 '" + clip + "'").c_str()), 0);
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"), eo);
  auto enc = VisionEncoder::load(test::shared_path("models/smolvlm2-small-tiny-mmproj.gguf"));
  std::vector<SmolVlmVideo> videos = {smolvlm_prepare_video_file(clip, enc->video_params())};
  ASSERT_EQ(videos[0].tiles.size(), 3u);  // 3 s at 1 fps
  nlohmann::ordered_json ctx = {{"messages", {{{"role", "user"},
                                               {"content", {{{"type", "video"}}, {{"type", "text"}, {"text", "Describe."}}}}}}},
                                {"add_generation_prompt", true}};
  const std::string rendered = render_chat_template(enc->video_chat_template(), ctx);
  EXPECT_EQ(rendered, "<|im_start|>User: <video>Describe.<end_of_utterance>\nAssistant:");
  Prompt p = tokenize_prompt(*engine, enc.get(), rendered, {}, of({}, videos), engine->pool());
  EXPECT_EQ(p.n_image_tokens, 3 * 64);
  EXPECT_EQ(p.text.rfind("<|im_start|>User: You are provided the following series of three frames from a 0:00:03 [H:MM:SS] video.\n", 0), 0u);
  EXPECT_EQ(greedy(*engine, p, 8), greedy(*engine, p, 8));
  std::remove(clip.c_str());
}

TEST(Multimodal, PlaceholderMismatchIsAnError) {
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"));
  auto enc = VisionEncoder::load(test::shared_path("models/smolvlm2-small-tiny-mmproj.gguf"));
  std::vector<Image> images = {enc->load_image_file(test::shared_path("images/tiny_32x24.png"))};
  EXPECT_THROW(tokenize_prompt(*engine, enc.get(), "no placeholder", {}, of(images), engine->pool()), Error);
  EXPECT_THROW(tokenize_prompt(*engine, enc.get(), "<image><image>", {}, of(images), engine->pool()), Error);
  // A mismatched projector width is refused before any work.
  auto ministral = Engine::load(test::shared_path("models/tiny-ministral3-f16.gguf"));
  EXPECT_THROW(tokenize_prompt(*ministral, enc.get(), "<image>", {}, of(images), ministral->pool()), Error);
}

}  // namespace
}  // namespace pocket
