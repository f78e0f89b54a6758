// `pocket serve` with images, video and tools: image_url as a data: URI, a --media-dir file
// and an http URL (served here on loopback, which the server is told to allow); path traversal and symlink escapes refused;
// pixel and duration limits (413); a video_url part; forced and streamed tool calls on
// Ministral 3; response_format json_object.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server_process.h"

namespace pocket::test {
namespace {

namespace fs = std::filesystem;

json media_body(const std::string& type, const std::string& url, int max_tokens = 3) {
  const std::string key = type;  // image_url / video_url
  return json{{"messages", json::array({json{{"role", "user"},
                                             {"content", json::array({json{{"type", type}, {key, json{{"url", url}}}},
                                                                      json{{"type", "text"}, {"text", "Describe it."}}})}}})},
              {"max_tokens", max_tokens},
              {"temperature", 0}};
}

// A media dir with one image, a 2-second video, and a symlink that points outside it.
std::string make_media_dir() {
  const fs::path dir = binary_path("server_media_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  fs::copy_file(shared_path("images/tiny_32x24.png"), dir / "sub" / "tiny.png");
  fs::create_symlink(shared_path("images/gray_640x480.png"), dir / "escape.png");
  const std::string video = (dir / "clip.mp4").string();
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=4:duration=2 -pix_fmt yuv420p -c:v mpeg4 " + video;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "ffmpeg is needed to make the test video";
  // Another image of the same size (same placeholder tokens, other pixels).
  const std::string red = "ffmpeg -v error -y -f lavfi -i color=c=red:s=32x24 -frames:v 1 " + (dir / "sub" / "red.png").string();
  EXPECT_EQ(std::system(red.c_str()), 0);
  const std::string longer = (dir / "long.mp4").string();
  const std::string cmd2 = "ffmpeg -v error -y -f lavfi -i testsrc=size=32x24:rate=1:duration=30 -pix_fmt yuv420p -c:v mpeg4 " + longer;
  EXPECT_EQ(std::system(cmd2.c_str()), 0);
  return dir.string();
}

TEST(ServerMedia, ImagesVideoAndLimits) {
  const std::string dir = make_media_dir();
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " --mmproj " + model_path("smolvlm2-small-tiny-mmproj.gguf") +
                    " --media-dir " + dir + " -c 4096 --max-image-pixels 100000 --max-video-seconds 10 --max-video-frames 4" +
                    " --allow-remote-media --media-allow-net 127.0.0.1/32");
  auto c = srv.client();
  const std::string png = read_text(shared_path("images/tiny_32x24.png"));
  const HttpResult text_only = post_json(c, "/v1/chat/completions", chat_body("Describe it.", 3));
  ASSERT_EQ(text_only.status, 200) << text_only.raw;

  // The same image three ways gives the same prompt and the same greedy answer.
  const HttpResult by_data = post_json(c, "/v1/chat/completions", media_body("image_url", "data:image/png;base64," + base64(png)));
  ASSERT_EQ(by_data.status, 200) << by_data.raw;
  EXPECT_GT(by_data.body["usage"]["prompt_tokens"].get<int>(), text_only.body["usage"]["prompt_tokens"].get<int>() + 20);
  const HttpResult by_file = post_json(c, "/v1/chat/completions", media_body("image_url", "sub/tiny.png"));
  ASSERT_EQ(by_file.status, 200) << by_file.raw;
  EXPECT_EQ(by_file.body["usage"]["prompt_tokens"], by_data.body["usage"]["prompt_tokens"]);
  EXPECT_EQ(by_file.body["usage"]["completion_tokens"], by_data.body["usage"]["completion_tokens"]);
  // The same image (matched by content) is taken from the kept KV: only the last token is prefilled.
  EXPECT_EQ(by_file.body["usage"]["prompt_tokens_details"]["cached_tokens"],
            by_data.body["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(by_file.body["choices"][0]["message"]["content"], by_data.body["choices"][0]["message"]["content"]);
  // Its tiles came from the embedding cache too: 32x24 is 13 tiles (4 x 3 crops + global).
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("pocket_image_cache_hits_total 13\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("pocket_image_cache_misses_total 13\n"), std::string::npos);
  // detail "low": the global tile alone (do_image_splitting=False) - 12 tiles of 64 tokens and
  // their row/column markers fewer; "high" and "auto" are the reference encoding; others refused.
  json low = media_body("image_url", "sub/tiny.png");
  low["messages"][0]["content"][0]["image_url"]["detail"] = "low";
  const HttpResult by_low = post_json(c, "/v1/chat/completions", low);
  ASSERT_EQ(by_low.status, 200) << by_low.raw;
  EXPECT_LT(by_low.body["usage"]["prompt_tokens"].get<int>(), by_data.body["usage"]["prompt_tokens"].get<int>() - 12 * 64);
  EXPECT_GE(by_low.body["usage"]["prompt_tokens"].get<int>(), text_only.body["usage"]["prompt_tokens"].get<int>() + 64);
  for (const char* d : {"high", "auto"}) {
    low["messages"][0]["content"][0]["image_url"]["detail"] = d;
    const HttpResult r = post_json(c, "/v1/chat/completions", low);
    EXPECT_EQ(r.body["usage"]["prompt_tokens"], by_data.body["usage"]["prompt_tokens"]) << d;
  }
  low["messages"][0]["content"][0]["image_url"]["detail"] = "medium";
  EXPECT_EQ(post_json(c, "/v1/chat/completions", low).status, 400);
  low["messages"][0]["content"][0]["image_url"]["detail"] = 1;
  EXPECT_EQ(post_json(c, "/v1/chat/completions", low).status, 400);
  json video_detail = media_body("video_url", "clip.mp4");
  video_detail["messages"][0]["content"][0]["video_url"]["detail"] = "low";
  const HttpResult vd = post_json(c, "/v1/chat/completions", video_detail);
  EXPECT_EQ(vd.status, 400) << vd.raw;
  EXPECT_NE(vd.raw.find("detail"), std::string::npos);
  // Another picture behind the same tokens is not taken from the cache: only the text before it.
  const HttpResult other = post_json(c, "/v1/chat/completions", media_body("image_url", "sub/red.png"));
  ASSERT_EQ(other.status, 200) << other.raw;
  EXPECT_EQ(other.body["usage"]["prompt_tokens"], by_data.body["usage"]["prompt_tokens"]);
  EXPECT_LT(other.body["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(),
            by_data.body["usage"]["prompt_tokens"].get<int>() / 2);
  httplib::Server files;
  files.Get("/tiny.png", [&](const httplib::Request&, httplib::Response& res) { res.set_content(png, "image/png"); });
  files.Get("/huge", [&](const httplib::Request&, httplib::Response& res) { res.set_content(std::string(30 << 20, 'x'), "image/png"); });
  const int port = files.bind_to_any_port("127.0.0.1");
  std::thread ft([&] { files.listen_after_bind(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const HttpResult by_url = post_json(c, "/v1/chat/completions", media_body("image_url", base + "/tiny.png"));
  EXPECT_EQ(by_url.status, 200) << by_url.raw;
  EXPECT_EQ(by_url.body["choices"][0]["message"]["content"], by_data.body["choices"][0]["message"]["content"]);
  const HttpResult too_big = post_json(c, "/v1/chat/completions", media_body("image_url", base + "/huge"));
  EXPECT_EQ(too_big.status, 413) << too_big.raw;
  EXPECT_EQ(error_code(too_big), "media_too_large");
  const HttpResult missing = post_json(c, "/v1/chat/completions", media_body("image_url", base + "/nothing.png"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_code(missing), "media_fetch_failed");
  files.stop();
  ft.join();

  // Refused paths: traversal, absolute outside, a symlink out of the directory, other schemes.
  for (const std::string& url : std::vector<std::string>{"../" + fs::path(dir).filename().string() + "/../x.png", "sub/../../tiny.png",
                                shared_path("images/tiny_32x24.png"), "escape.png", "file:///etc/passwd", "ftp://x/y.png"}) {
    const HttpResult r = post_json(c, "/v1/chat/completions", media_body("image_url", url));
    EXPECT_EQ(r.status, 400) << url << " " << r.raw;
  }
  // Limits: 640x480 > 100000 pixels -> 413; malformed base64 and non-images -> 400.
  const std::string gray = read_text(shared_path("images/gray_640x480.png"));
  const HttpResult pixels = post_json(c, "/v1/chat/completions", media_body("image_url", "data:image/png;base64," + base64(gray)));
  EXPECT_EQ(pixels.status, 413) << pixels.raw;
  EXPECT_EQ(error_code(pixels), "media_too_large");
  EXPECT_EQ(post_json(c, "/v1/chat/completions", media_body("image_url", "data:image/png;base64,!!!")).status, 400);
  EXPECT_EQ(post_json(c, "/v1/chat/completions", media_body("image_url", "data:image/png;base64," + base64("hello"))).status, 400);

  // Video: a 2-second clip is sampled and answered; a 30-second one is over --max-video-seconds.
  const HttpResult video = post_json(c, "/v1/chat/completions", media_body("video_url", "clip.mp4"));
  ASSERT_EQ(video.status, 200) << video.raw;
  EXPECT_GT(video.body["usage"]["prompt_tokens"].get<int>(), text_only.body["usage"]["prompt_tokens"].get<int>() + 20);
  const HttpResult long_video = post_json(c, "/v1/chat/completions", media_body("video_url", "long.mp4"));
  EXPECT_EQ(long_video.status, 413) << long_video.raw;
  fs::remove_all(dir);
}

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}])");

TEST(ServerTools, ForcedAndStreamedToolCalls) {
  ServerProcess srv("-m " + model_path("tiny-ministral3-f16.gguf") + " -c 1024");
  auto c = srv.client();
  json body = chat_body("What is the weather in Paris?", 40);
  body["tools"] = kTools;
  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  const HttpResult r = post_json(c, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& ch = r.body["choices"][0];
  EXPECT_EQ(ch["finish_reason"], "tool_calls");
  ASSERT_EQ(ch["message"]["tool_calls"].size(), 1u) << r.raw;
  const json& call = ch["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_TRUE(call["id"].is_string() && !call["id"].get<std::string>().empty());
  EXPECT_TRUE(json::parse(call["function"]["arguments"].get<std::string>()).is_object());

  // The call goes back into the conversation with a tool result.
  json follow = chat_body("What is the weather in Paris?", 5);
  follow["tools"] = kTools;
  follow["messages"].push_back(ch["message"]);
  follow["messages"].push_back(json{{"role", "tool"}, {"tool_call_id", call["id"]}, {"name", "get_weather"}, {"content", "sunny"}});
  const HttpResult f = post_json(c, "/v1/chat/completions", follow);
  EXPECT_EQ(f.status, 200) << f.raw;

  // Streamed as OpenAI streams calls: the first delta of index 0 carries id, type and name
  // (arguments ""), the next ones only argument fragments, as they are generated; joined, they
  // are the same call as the non-streamed answer (greedy), and finish_reason is tool_calls.
  // The third tool's arguments take hundreds of tokens: they arrive over many steps, so the
  // stream carries them in several fragments.
  const json long_tool = json::parse(R"({"type": "function", "function": {"name": "write_note", "strict": true,
      "parameters": {"type": "object", "properties": {"text": {"type": "string", "minLength": 300, "maxLength": 300}},
      "required": ["text"], "additionalProperties": false}}})");
  for (const json& tool : {kTools[1], kTools[0], long_tool}) {
    const bool long_args = tool["function"]["name"] == "write_note";
    body["max_tokens"] = long_args ? 600 : 40;
    body["tool_choice"] = "required";
    body["tools"] = json::array({tool});
    body["stream"] = false;
    const HttpResult whole = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(whole.status, 200) << whole.raw;
    const json& expect = whole.body["choices"][0]["message"]["tool_calls"][0];
    body["stream"] = true;
    auto s = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(s);
    std::string id, name, args, finish;
    int heads = 0, fragments = 0;
    for (const auto& e : sse_events(s->body)) {
      if (e == "[DONE]") continue;
      const json j = json::parse(e);
      const json& d = j["choices"][0]["delta"];
      if (d.contains("tool_calls")) {
        const json& t = d["tool_calls"][0];
        EXPECT_EQ(t["index"], 0);
        if (t.contains("id")) {
          ++heads;
          id = t["id"];
          name = t["function"]["name"];
          EXPECT_EQ(t["type"], "function");
        } else {
          ++fragments;
          EXPECT_FALSE(t["function"].contains("name"));
        }
        args += t["function"]["arguments"].get<std::string>();
      }
      if (!j["choices"][0]["finish_reason"].is_null()) finish = j["choices"][0]["finish_reason"];
    }
    EXPECT_EQ(heads, 1);
    if (long_args) EXPECT_GE(fragments, 2) << s->body;
    EXPECT_EQ(name, tool["function"]["name"]);
    EXPECT_EQ(id.size(), 9u);  // ids differ between requests; the form is mistral-common's
    EXPECT_EQ(args, expect["function"]["arguments"]) << s->body;
    EXPECT_EQ(finish, "tool_calls");
  }
  body["max_tokens"] = 40;

  // required with several tools: the model picks one of the offered names.
  body["stream"] = false;
  body["tool_choice"] = "required";
  body["tools"] = kTools;
  for (double temp : {0.0, 1.0}) {
    body["temperature"] = temp;
    body["seed"] = 5;
    const HttpResult req = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(req.status, 200) << req.raw;
    const json& calls = req.body["choices"][0]["message"]["tool_calls"];
    ASSERT_EQ(calls.size(), 1u) << req.raw;
    const std::string n = calls[0]["function"]["name"];
    EXPECT_TRUE(n == "get_weather" || n == "get_time") << n;
    EXPECT_TRUE(json::parse(calls[0]["function"]["arguments"].get<std::string>()).is_object());
    EXPECT_EQ(req.body["choices"][0]["finish_reason"], "tool_calls");
  }
  body["temperature"] = 0;

  // tool_choice none: plain content, no calls.
  body["stream"] = false;
  body["tool_choice"] = "none";
  const HttpResult none = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(none.status, 200);
  EXPECT_FALSE(none.body["choices"][0]["message"].contains("tool_calls"));
  // Naming a tool that is not offered is a 400.
  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "launch"}}}};
  EXPECT_EQ(post_json(c, "/v1/chat/completions", body).status, 400);
}

// A model that strays into control tokens ([/INST] after a user turn, [/TOOL_RESULTS] after a
// tool result) must not have them in its content: with tools only the call markers reach the
// parser, and they never reach the content either.
TEST(ServerTools, ControlTokensNeverInContent) {
  ServerProcess srv("-m " + model_path("tiny-ministral3-f16.gguf") + " -c 1024");
  auto c = srv.client();
  const char* kControl[] = {"[INST]", "[/INST]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[AVAILABLE_TOOLS]",
                            "[/AVAILABLE_TOOLS]", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "[SYSTEM_PROMPT]",
                            "[/SYSTEM_PROMPT]", "</s>", "<s>", "[IMG]", "[IMG_BREAK]", "[IMG_END]"};
  json after_result = chat_body("What is the weather in Paris?", 40);
  after_result["messages"].push_back(json{{"role", "assistant"}, {"content", nullptr},
                                          {"tool_calls", json::array({json{{"id", "abcdefghi"}, {"type", "function"},
                                                                           {"function", {{"name", "get_weather"}, {"arguments", "{\"city\": \"Paris\"}"}}}}})}});
  after_result["messages"].push_back(json{{"role", "tool"}, {"tool_call_id", "abcdefghi"}, {"content", "sunny"}});
  int checked = 0;
  for (bool tools : {false, true}) {
    for (const json& base : {chat_body("Hello there", 40), after_result}) {
      for (int seed = 1; seed <= 4; ++seed) {
        json body = base;
        if (tools) body["tools"] = kTools;
        body["temperature"] = 1.0;
        body["seed"] = seed;
        const HttpResult r = post_json(c, "/v1/chat/completions", body);
        ASSERT_EQ(r.status, 200) << r.raw;
        const json& m = r.body["choices"][0]["message"];
        const std::string content = m["content"].is_string() ? m["content"].get<std::string>() : "";
        for (const char* t : kControl) EXPECT_EQ(content.find(t), std::string::npos) << t << " in " << content;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 16);
}

TEST(ServerTools, JsonObjectResponseFormat) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 1024");
  auto c = srv.client();
  for (int max_tokens : {3, 60}) {
    for (double temp : {0.0, 1.0}) {
      json body = chat_body("Answer in JSON", max_tokens);
      body["temperature"] = temp;
      body["seed"] = 42;
      body["response_format"] = {{"type", "json_object"}};
      const HttpResult r = post_json(c, "/v1/chat/completions", body);
      ASSERT_EQ(r.status, 200) << r.raw;
      const std::string content = r.body["choices"][0]["message"]["content"];
      EXPECT_TRUE(json::parse(content, nullptr, false).is_object()) << content;
    }
  }
}

// Strict functions: a forced call's arguments meet the chosen tool's schema (validated by
// Python's jsonschema); a strict schema Pocket cannot enforce is a 400 naming the keyword.
TEST(ServerTools, StrictFunctionArguments) {
  ServerProcess srv("-m " + model_path("tiny-ministral3-f16.gguf") + " -c 1024");
  auto c = srv.client();
  json tools = json::parse(R"([
    {"type": "function", "function": {"name": "book", "strict": true, "parameters": {"type": "object",
      "properties": {"seats": {"type": "integer", "minimum": 1, "maximum": 9}, "day": {"type": "string", "format": "date"}},
      "required": ["seats", "day"], "additionalProperties": false}}},
    {"type": "function", "function": {"name": "cancel", "strict": true, "parameters": {"type": "object",
      "properties": {"ref": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{4}$"}}, "required": ["ref"], "additionalProperties": false}}}])");
  const std::string path = ::testing::TempDir() + "/pocket_server_strict.jsonl";
  std::ofstream out(path);
  for (int seed = 1; seed <= 6; ++seed) {
    json body = chat_body("Book two seats", 60);
    body["tools"] = tools;
    body["tool_choice"] = "required";
    body["temperature"] = 1.0;
    body["seed"] = seed;
    const HttpResult r = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    const json& calls = r.body["choices"][0]["message"]["tool_calls"];
    ASSERT_EQ(calls.size(), 1u) << r.raw;
    const std::string name = calls[0]["function"]["name"];
    const json& schema = tools[name == "book" ? 0 : 1]["function"]["parameters"];
    out << json{{"schema", schema}, {"text", calls[0]["function"]["arguments"]}}.dump() << "\n";
  }
  out.close();
  const std::string cmd = "python3 " + std::string(POCKET_SOURCE_DIR) + "/tests/sampling/validate_samples.py " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // parallel_tool_calls false under tool_choice auto: at most one call.
  for (int seed = 1; seed <= 3; ++seed) {
    json body = chat_body("Book two seats", 60);
    body["tools"] = tools;
    body["parallel_tool_calls"] = false;
    body["temperature"] = 1.0;
    body["seed"] = seed;
    const HttpResult r = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_LE(r.body["choices"][0]["message"].value("tool_calls", json::array()).size(), 1u) << r.raw;
  }

  tools[0]["function"]["parameters"]["properties"]["seats"]["multipleOf"] = 2;
  for (const char* choice : {"required", "auto"}) {
    json body = chat_body("Book", 20);
    body["tools"] = tools;
    body["tool_choice"] = choice;
    const HttpResult bad = post_json(c, "/v1/chat/completions", body);
    EXPECT_EQ(bad.status, 400) << choice;
    EXPECT_NE(bad.raw.find("multipleOf"), std::string::npos) << bad.raw;
  }
}

// response_format json_schema: every reply, at any budget and temperature, validates against
// the schema by Python's jsonschema (tests/sampling/validate_samples.py); an unsupported
// keyword is a 400 that names it.
TEST(ServerTools, JsonSchemaResponseFormat) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 1024");
  auto c = srv.client();
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "city": {"type": "string", "maxLength": 12},
      "when": {"type": "string", "format": "date"},
      "rank": {"type": "integer", "minimum": 1, "maximum": 5},
      "tags": {"type": "array", "items": {"enum": ["sun", "rain"]}, "maxItems": 3},
      "note": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/code"}]}
    },
    "required": ["city", "when", "rank", "tags", "note"],
    "additionalProperties": false,
    "$defs": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}
  })");
  const std::string path = ::testing::TempDir() + "/pocket_server_schema.jsonl";
  std::ofstream out(path);
  int n = 0;
  for (int max_tokens : {30, 45, 120}) {
    for (double temp : {0.0, 1.0}) {
      json body = chat_body("Where and when?", max_tokens);
      body["temperature"] = temp;
      body["seed"] = 42 + n;
      body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "trip"}, {"strict", true}, {"schema", schema}}}};
      const HttpResult r = post_json(c, "/v1/chat/completions", body);
      ASSERT_EQ(r.status, 200) << r.raw;
      out << json{{"schema", schema}, {"text", r.body["choices"][0]["message"]["content"]}}.dump() << "\n";
      ++n;
    }
  }
  out.close();
  const std::string cmd = "python3 " + std::string(POCKET_SOURCE_DIR) + "/tests/sampling/validate_samples.py " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;

  json body = chat_body("x", 8);
  body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "n"}, {"schema", {{"type", "array"}, {"uniqueItems", true}}}}}};
  const HttpResult bad = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("uniqueItems"), std::string::npos) << bad.raw;
  // A budget below the shortest valid reply is refused rather than cut into broken JSON.
  body = chat_body("x", 4);
  body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "trip"}, {"schema", schema}}}};
  const HttpResult small = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(small.status, 400) << small.raw;
  EXPECT_EQ(small.body["error"]["param"], "max_tokens") << small.raw;
}

}  // namespace
}  // namespace pocket::test
