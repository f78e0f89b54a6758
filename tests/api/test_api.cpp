// The C API (include/pocket.h) through libpocket.so, as an application sees it:
//  - bad input (NULL handles, missing files, malformed models and images, wrong sizes, bad
//    parameters, unset struct sizes) returns an error status and a message, never a crash
//    (this file also runs in the ASan/UBSan build, build-san/);
//  - the library answers exactly what `pocket run` prints for the same model, prompt and
//    image under greedy decoding (an independent process; skipped where no CLI is built);
//  - conversations continue, cancellation from another thread stops, sessions of one model
//    run on two threads at once with the answers a single thread gives.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "pocket.h"
#include "test_util.h"
#ifdef POCKET_HAVE_CLI
#include "apps/cli_util.h"
#endif

namespace {

using pocket::test::shared_path;

const std::string kSmol = shared_path("models/tiny-smol-f16.gguf");
const std::string kSmolProj = shared_path("models/smolvlm2-small-tiny-mmproj.gguf");
const std::string kMinistral = shared_path("models/tiny-ministral3-f16.gguf");
const std::string kPixtral = shared_path("models/tiny-pixtral-mmproj.gguf");
const std::string kImage = shared_path("images/tiny_32x24.png");

pocket_model* load(const std::string& path, const char* mmproj, int threads = 2) {
  pocket_model_params mp;
  pocket_model_default_params(&mp);
  mp.mmproj = mmproj;
  mp.n_threads = threads;
  pocket_model* m = nullptr;
  const pocket_status st = pocket_model_load(path.c_str(), &mp, &m);
  EXPECT_EQ(st, POCKET_OK) << pocket_last_error();
  return m;
}

// Owns a loaded model; declared before a test's sessions, it is freed after them (and also
// when an assertion ends the test early).
struct Model {
  pocket_model* m;
  Model(const std::string& path, const char* mmproj, int threads = 2) : m(load(path, mmproj, threads)) {}
  ~Model() { pocket_model_free(m); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
};

struct Session {
  pocket_session* s = nullptr;
  explicit Session(pocket_model* m) { EXPECT_EQ(pocket_session_create(m, nullptr, &s), POCKET_OK) << pocket_last_error(); }
  ~Session() { pocket_session_free(s); }
};

pocket_generate_params greedy(int max_tokens) {
  pocket_generate_params gp;
  pocket_generate_default_params(&gp);
  gp.temperature = 0;
  gp.max_tokens = max_tokens;
  return gp;
}

std::string generate(pocket_session* s, pocket_generate_params gp, pocket_result* out = nullptr) {
  pocket_result r{};
  r.size = sizeof r;
  const pocket_status st = pocket_session_generate(s, &gp, &r);
  EXPECT_EQ(st, POCKET_OK) << pocket_session_error(s);
  if (out) *out = r;
  return st == POCKET_OK ? std::string(r.text, r.text_len) : std::string();
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Api, VersionsAndNames) {
  EXPECT_EQ(pocket_api_version(), POCKET_API_VERSION);
  EXPECT_STRNE(pocket_version(), "");
  EXPECT_STREQ(pocket_status_name(POCKET_ERR_IO), "i/o error");
  EXPECT_STREQ(pocket_status_name(99), "unknown status");
}

TEST(Api, NullHandlesAreErrorsNotCrashes) {
  pocket_model* m = reinterpret_cast<pocket_model*>(1);
  EXPECT_EQ(pocket_model_load(nullptr, nullptr, &m), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(pocket_last_error()), "");
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_model_get_info(nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  pocket_session* s = nullptr;
  EXPECT_EQ(pocket_session_create(nullptr, nullptr, &s), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_add_message(nullptr, "user", "hi"), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_add_image_file(nullptr, kImage.c_str()), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_add_image_rgb(nullptr, nullptr, 1, 1, 3), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_generate(nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_set_tools(nullptr, "[]"), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_session_add_tool_result(nullptr, "id", "{}"), POCKET_ERR_INVALID_ARGUMENT);
  size_t n = 0;
  EXPECT_EQ(pocket_tokenize(nullptr, "a", 1, 1, 1, nullptr, 0, &n), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pocket_detokenize(nullptr, nullptr, 0, 0, nullptr, 0, &n), POCKET_ERR_INVALID_ARGUMENT);
  pocket_session_cancel(nullptr);
  pocket_session_free(nullptr);
  pocket_model_free(nullptr);
  EXPECT_STREQ(pocket_model_error(nullptr), "");
  EXPECT_STREQ(pocket_session_error(nullptr), "");
}

TEST(Api, MissingAndMalformedModels) {
  pocket_model* m = nullptr;
  EXPECT_EQ(pocket_model_load("/nonexistent/model.gguf", nullptr, &m), POCKET_ERR_IO);
  EXPECT_NE(std::string(pocket_last_error()).find("model.gguf"), std::string::npos) << pocket_last_error();
  EXPECT_EQ(pocket_model_load(write_file("garbage.gguf", "not a gguf file at all").c_str(), nullptr, &m), POCKET_ERR_MODEL);
  // The real model cut short: the tensor data ends before the header says.
  std::string bytes = pocket::test::read_text(kSmol);
  EXPECT_EQ(pocket_model_load(write_file("cut.gguf", bytes.substr(0, bytes.size() / 2)).c_str(), nullptr, &m),
            POCKET_ERR_MODEL);
  EXPECT_EQ(pocket_model_load(write_file("header.gguf", bytes.substr(0, 100)).c_str(), nullptr, &m), POCKET_ERR_MODEL);
  EXPECT_EQ(m, nullptr);
  pocket_model_params mp;
  pocket_model_default_params(&mp);
  mp.mmproj = "/nonexistent/mmproj.gguf";
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_IO);
  mp.mmproj = kPixtral.c_str();  // projects to 256, the model is 64 wide
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_MODEL);
  mp.mmproj = nullptr;
  mp.size = 0;  // never filled by pocket_model_default_params
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_last_error()).find("size"), std::string::npos);
  mp.size = sizeof mp + 8;  // from a header newer than the library
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_INVALID_ARGUMENT);
  pocket_model_default_params(&mp);
  mp.quant = "Q4_0";  // a GGUF file keeps its types: refused, not ignored
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_last_error()).find("quant"), std::string::npos);
  pocket_model_default_params(&mp);
  mp.n_threads = -1;
  EXPECT_EQ(pocket_model_load(kSmol.c_str(), &mp, &m), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
}

TEST(Api, ModelInfo) {
  pocket_model* m = load(kSmol, kSmolProj.c_str());
  ASSERT_NE(m, nullptr);
  pocket_model_info info{};
  EXPECT_EQ(pocket_model_get_info(m, &info), POCKET_ERR_INVALID_ARGUMENT);  // size unset
  info.size = sizeof info;
  ASSERT_EQ(pocket_model_get_info(m, &info), POCKET_OK);
  EXPECT_STREQ(info.architecture, "llama");  // ../shared/models/README.md
  EXPECT_EQ(info.n_vocab, 49280);
  EXPECT_EQ(info.n_embd, 64);
  EXPECT_EQ(info.has_vision, 1);
  EXPECT_EQ(info.has_video, 1);
  EXPECT_EQ(info.has_chat_template, 1);
  pocket_model_free(m);
  m = load(kMinistral, nullptr);
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(pocket_model_get_info(m, &info), POCKET_OK);
  EXPECT_STREQ(info.architecture, "mistral3");
  EXPECT_EQ(info.has_vision, 0);
  EXPECT_EQ(info.has_tools, 1);  // the v13 template writes [TOOL_CALLS]name[ARGS]{...}
  pocket_model_free(m);
}

TEST(Api, TokenizeMatchesTheGoldenIdsAndSizesBuffers) {
  const Model owner(kMinistral, nullptr);
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  // tiny-ministral3's vocabulary: control tokens keep Tekken's ids (models/README.md).
  const std::string text = "[INST]hi[/INST]";
  size_t n = 0;
  EXPECT_EQ(pocket_tokenize(m, text.data(), text.size(), 0, 1, nullptr, 0, &n), POCKET_ERR_BUFFER_TOO_SMALL);
  ASSERT_GE(n, 3u);
  std::vector<int32_t> ids(n);
  ASSERT_EQ(pocket_tokenize(m, text.data(), text.size(), 0, 1, ids.data(), ids.size(), &n), POCKET_OK);
  EXPECT_EQ(ids.front(), 3);
  EXPECT_EQ(ids.back(), 4);
  size_t bytes = 0;
  EXPECT_EQ(pocket_detokenize(m, ids.data(), ids.size(), 0, nullptr, 0, &bytes), POCKET_ERR_BUFFER_TOO_SMALL);
  std::string back(bytes + 1, '\0');
  ASSERT_EQ(pocket_detokenize(m, ids.data(), ids.size(), 0, back.data(), back.size(), &bytes), POCKET_OK);
  EXPECT_EQ(std::string(back.c_str()), text);
  const int32_t bad[] = {1, 1 << 30};
  EXPECT_EQ(pocket_detokenize(m, bad, 2, 0, back.data(), back.size(), &bytes), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_model_error(m)).find("vocabulary"), std::string::npos);
}

TEST(Api, BadMediaAndParameters) {
  const Model owner(kSmol, kSmolProj.c_str());
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  Session s(m);
  // Media need a user message to belong to.
  EXPECT_EQ(pocket_session_add_image_file(s.s, kImage.c_str()), POCKET_ERR_REQUEST);
  EXPECT_EQ(pocket_session_add_message(s.s, "narrator", "x"), POCKET_ERR_REQUEST);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "what is it?"), POCKET_OK);
  EXPECT_EQ(pocket_session_add_image_file(s.s, "/nonexistent.png"), POCKET_ERR_IO);
  EXPECT_EQ(pocket_session_add_image_file(s.s, write_file("bad.png", "\x89PNG\r\n\x1a\nnot really").c_str()),
            POCKET_ERR_MEDIA);
  const std::string jpeg_head = "\xff\xd8\xff\xe0";
  EXPECT_EQ(pocket_session_add_image_bytes(s.s, jpeg_head.data(), jpeg_head.size()), POCKET_ERR_MEDIA);
  std::vector<uint8_t> rgb(4 * 3 * 3, 128);
  EXPECT_EQ(pocket_session_add_image_rgb(s.s, rgb.data(), 4, 3, rgb.size() - 1), POCKET_ERR_MEDIA);
  EXPECT_EQ(pocket_session_add_image_rgb(s.s, rgb.data(), 0, 3, 0), POCKET_ERR_MEDIA);
  EXPECT_EQ(pocket_session_add_image_rgb(s.s, rgb.data(), -4, -3, rgb.size()), POCKET_ERR_MEDIA);
  EXPECT_EQ(pocket_session_add_image_rgb(s.s, rgb.data(), 1 << 20, 1 << 20, rgb.size()), POCKET_ERR_MEDIA);
  EXPECT_EQ(pocket_session_add_video_file(s.s, write_file("bad.mp4", "ftypisom junk").c_str()), POCKET_ERR_MEDIA);
  EXPECT_NE(std::string(pocket_session_error(s.s)), "");
  EXPECT_EQ(pocket_session_set_tools(s.s, "{not json"), POCKET_ERR_REQUEST);
  EXPECT_EQ(pocket_session_set_tools(s.s, "{\"type\": \"function\"}"), POCKET_ERR_REQUEST);

  pocket_generate_params gp = greedy(4);
  gp.top_p = 2;
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_session_error(s.s)).find("top_p"), std::string::npos);
  gp = greedy(4);
  gp.temperature = -1;
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  gp = greedy(4);
  gp.n_stop = 2;  // stop is NULL
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  gp = greedy(4);
  gp.json_schema = "{\"type\": \"object\", \"patternProperties\": {}}";
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(pocket_session_error(s.s)).find("patternProperties"), std::string::npos);
  gp.json_schema = "{\"type\": \"object\", ";  // not JSON: the caller's mistake, not a limit
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_session_error(s.s)).find("not valid JSON"), std::string::npos);
  gp = greedy(2);  // below the shortest text the schema allows
  gp.json_schema = "{\"type\": \"object\", \"properties\": {\"answer\": {\"enum\": [\"yes\", \"no\"]}}, \"required\": [\"answer\"]}";
  EXPECT_NE(pocket_session_generate(s.s, &gp, nullptr), POCKET_OK);
  EXPECT_NE(std::string(pocket_session_error(s.s)).find("max_tokens"), std::string::npos);
  gp = greedy(4);
  gp.completion = 1;  // with an image it is not one raw text
  ASSERT_EQ(pocket_session_add_image_file(s.s, kImage.c_str()), POCKET_OK);
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_REQUEST);
  pocket_result r{};  // size unset
  gp = greedy(4);
  EXPECT_EQ(pocket_session_generate(s.s, &gp, &r), POCKET_ERR_INVALID_ARGUMENT);

  // A context smaller than the image's tokens: an error before any decoding.
  pocket_session_params sp;
  pocket_session_default_params(&sp);
  sp.n_ctx = 32;
  pocket_session* small = nullptr;
  ASSERT_EQ(pocket_session_create(m, &sp, &small), POCKET_OK);
  ASSERT_EQ(pocket_session_add_message(small, "user", "what is it?"), POCKET_OK);
  ASSERT_EQ(pocket_session_add_image_file(small, kImage.c_str()), POCKET_OK);
  EXPECT_EQ(pocket_session_generate(small, &gp, nullptr), POCKET_ERR_REQUEST);
  EXPECT_NE(std::string(pocket_session_error(small)).find("context"), std::string::npos) << pocket_session_error(small);
  // The model stays while a session of it lives.
  pocket_model_free(m);
  EXPECT_NE(std::string(pocket_model_error(m)).find("sessions"), std::string::npos);
  pocket_session_free(small);
}

TEST(Api, TextOnlyModelRefusesMediaByName) {
  {
    const Model owner(kMinistral, nullptr);
    ASSERT_NE(owner.m, nullptr);
    Session s(owner.m);
    ASSERT_EQ(pocket_session_add_message(s.s, "user", "hi"), POCKET_OK);
    EXPECT_EQ(pocket_session_add_image_file(s.s, kImage.c_str()), POCKET_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(pocket_session_error(s.s)).find("projector"), std::string::npos);
  }
  const Model owner(kMinistral, kPixtral.c_str());
  ASSERT_NE(owner.m, nullptr);
  Session s(owner.m);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "hi"), POCKET_OK);
  EXPECT_EQ(pocket_session_add_video_file(s.s, kImage.c_str()), POCKET_ERR_UNSUPPORTED);  // Pixtral: no video
}

TEST(Api, ConversationContinuesAndStreams) {
  const Model owner(kSmol, nullptr);  // its replies have text (tiny-ministral3's are control tokens)
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  Session s(m);
  ASSERT_EQ(pocket_session_set_system(s.s, "Be brief."), POCKET_OK);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "hello"), POCKET_OK);
  std::string streamed;
  pocket_generate_params gp = greedy(6);
  gp.on_text = [](const char* piece, size_t n, void* user) {
    static_cast<std::string*>(user)->append(piece, n);
    return 1;
  };
  gp.user_data = &streamed;
  pocket_result r1{};
  const std::string first = generate(s.s, gp, &r1);
  EXPECT_EQ(streamed, first);
  EXPECT_EQ(r1.n_generated_tokens, 6);
  EXPECT_STREQ(r1.finish_reason, "length");
  EXPECT_EQ(nlohmann::json::parse(r1.tool_calls_json), nlohmann::json::array());
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "and then?"), POCKET_OK);
  gp.on_text = nullptr;
  pocket_result r2{};
  generate(s.s, gp, &r2);
  // The second prompt holds the first exchange: the first prompt and answer come before it.
  ASSERT_FALSE(first.empty());
  EXPECT_GT(r2.n_prompt_tokens, r1.n_prompt_tokens + r1.n_generated_tokens);
  // Cleared, the same question gets the first answer again (greedy).
  ASSERT_EQ(pocket_session_clear(s.s), POCKET_OK);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "hello"), POCKET_OK);
  EXPECT_EQ(generate(s.s, gp), first);
}

// Tools: a forced call comes back parsed (OpenAI shape), goes into the history, and the tool's
// result can follow it; an unknown tool name is refused by name.
TEST(Api, ForcedToolCallIsParsedAndKept) {
  const Model owner(kMinistral, nullptr);
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  Session s(m);
  const char* tools = R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
      {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}])";
  ASSERT_EQ(pocket_session_set_tools(s.s, tools), POCKET_OK) << pocket_session_error(s.s);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "Weather in Paris?"), POCKET_OK);
  pocket_generate_params gp = greedy(64);
  gp.tool_choice = "get_forecast";
  EXPECT_EQ(pocket_session_generate(s.s, &gp, nullptr), POCKET_ERR_REQUEST);
  EXPECT_NE(std::string(pocket_session_error(s.s)).find("get_forecast"), std::string::npos);
  for (const char* choice : {"get_weather", "required"}) {
    gp.tool_choice = choice;
    pocket_result r{};
    generate(s.s, gp, &r);
    const auto calls = nlohmann::json::parse(r.tool_calls_json);
    ASSERT_EQ(calls.size(), 1u) << r.tool_calls_json << " text: " << std::string(r.text, r.text_len);
    EXPECT_EQ(calls[0]["type"], "function");
    if (std::string(choice) != "required") {
      EXPECT_EQ(calls[0]["function"]["name"], choice);
    }
    EXPECT_TRUE(nlohmann::json::parse(calls[0]["function"]["arguments"].get<std::string>()).is_object());
    EXPECT_EQ(std::string(r.text, r.text_len), "");  // the markup is not content
    const std::string id = calls[0]["id"];
    ASSERT_EQ(pocket_session_add_tool_result(s.s, id.c_str(), "{\"temperature\": 21}"), POCKET_OK)
        << pocket_session_error(s.s);
  }
  EXPECT_EQ(pocket_session_add_tool_result(s.s, "nosuchid1", "{}"), POCKET_ERR_REQUEST);
  // The calls and their results render back into the next prompt.
  gp.tool_choice = nullptr;
  pocket_result r{};
  generate(s.s, gp, &r);
  EXPECT_STRNE(r.finish_reason, "");
}

// json_schema constrains the answer: on both vocabularies (SmolVLM2's 49k, tiny Ministral 3's Tekken), greedy
// and sampled, every answer parses and meets the schema (checked field by field here; the
// general check against Python's jsonschema is in tests/sampling and the server tests).
TEST(Api, JsonSchemaAnswerMeetsTheSchema) {
  const char* schema = R"({"type": "object", "properties": {
      "answer": {"enum": ["yes", "no"]}, "score": {"type": "integer", "minimum": 0, "maximum": 10},
      "words": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 2}},
      "required": ["answer", "score", "words"], "additionalProperties": false})";
  for (const std::string& path : {kSmol, kMinistral}) {
    const Model owner(path, nullptr, 1);
    ASSERT_NE(owner.m, nullptr);
    for (float temperature : {0.0f, 1.0f}) {
      Session s(owner.m);
      ASSERT_EQ(pocket_session_add_message(s.s, "user", "Is it raining?"), POCKET_OK);
      pocket_generate_params gp = greedy(48);
      gp.temperature = temperature;
      gp.seed = 11;
      gp.json_schema = schema;
      const std::string text = generate(s.s, gp);
      SCOPED_TRACE(path + ": " + text);
      const auto j = nlohmann::json::parse(text, nullptr, false);
      ASSERT_TRUE(j.is_object());
      EXPECT_EQ(j.size(), 3u);
      EXPECT_TRUE(j["answer"] == "yes" || j["answer"] == "no");
      ASSERT_TRUE(j["score"].is_number_integer());
      EXPECT_GE(j["score"].get<int>(), 0);
      EXPECT_LE(j["score"].get<int>(), 10);
      ASSERT_TRUE(j["words"].is_array());
      EXPECT_LE(j["words"].size(), 2u);
      for (const auto& w : j["words"]) EXPECT_LE(w.get<std::string>().size(), 8u * 4);  // 8 characters, UTF-8
    }
  }
}

TEST(Api, CancelFromAnotherThread) {
  const Model owner(kSmol, nullptr);
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  Session s(m);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", "count"), POCKET_OK);
  // Cancelled before it starts: nothing generated, and the next generate runs normally.
  pocket_session_cancel(s.s);
  pocket_result r{};
  generate(s.s, greedy(5), &r);
  EXPECT_STREQ(r.finish_reason, "cancelled");
  EXPECT_EQ(r.n_generated_tokens, 0);
  generate(s.s, greedy(5), &r);
  EXPECT_STREQ(r.finish_reason, "length");
  // Cancelled by another thread once text flows (the whole context would take thousands of
  // tokens; print_special keeps every token's text flowing).
  std::atomic<int> pieces{0};
  std::atomic<bool> done{false};
  pocket_generate_params gp = greedy(-1);
  gp.print_special = 1;
  gp.on_text = [](const char*, size_t, void* user) {
    static_cast<std::atomic<int>*>(user)->fetch_add(1);
    return 1;
  };
  gp.user_data = &pieces;
  std::thread canceller([&] {
    while (pieces.load() < 3 && !done.load()) std::this_thread::yield();
    pocket_session_cancel(s.s);
  });
  generate(s.s, gp, &r);
  done = true;
  canceller.join();
  EXPECT_STREQ(r.finish_reason, "cancelled");
  EXPECT_LT(r.n_generated_tokens, 1000);
}

TEST(Api, SessionsOfOneModelRunOnTwoThreads) {
  const Model owner(kSmol, kSmolProj.c_str(), 1);
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  const auto ask = [&](const char* q) {
    Session s(m);
    EXPECT_EQ(pocket_session_add_message(s.s, "user", q), POCKET_OK);
    EXPECT_EQ(pocket_session_add_image_file(s.s, kImage.c_str()), POCKET_OK);
    return generate(s.s, greedy(8));
  };
  const std::string a = ask("What is this?"), b = ask("Describe it.");
  std::string ta, tb;
  std::thread t1([&] { ta = ask("What is this?"); });
  std::thread t2([&] { tb = ask("Describe it."); });
  t1.join();
  t2.join();
  EXPECT_EQ(ta, a);
  EXPECT_EQ(tb, b);
}

#ifdef POCKET_HAVE_CLI
// The same answer as `pocket run` (another process, its own loading and argument handling).
void expect_same_as_cli(const std::string& model, const std::string& mmproj, const std::string& prompt) {
  using pocket::test::shq;
  const auto cli = pocket::test::run_pocket("run -q -m " + shq(model) + " --mmproj " + shq(mmproj) + " --image " +
                                            shq(kImage) + " -p " + shq(prompt) + " -n 16 --temp 0");
  ASSERT_EQ(cli.status, 0) << cli.err;
  const Model owner(model, mmproj.c_str());
  pocket_model* m = owner.m;
  ASSERT_NE(m, nullptr);
  Session s(m);
  ASSERT_EQ(pocket_session_add_message(s.s, "user", prompt.c_str()), POCKET_OK);
  ASSERT_EQ(pocket_session_add_image_file(s.s, kImage.c_str()), POCKET_OK);
  EXPECT_EQ(generate(s.s, greedy(16)) + "\n", cli.out);
}

TEST(Api, SameAnswerAsPocketRun) {
  expect_same_as_cli(kSmol, kSmolProj, "What is in this image?");
  expect_same_as_cli(kMinistral, kPixtral, "What is in this image?");
}
#endif

}  // namespace
