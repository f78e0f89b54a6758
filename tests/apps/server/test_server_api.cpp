// `pocket serve` over raw HTTP: chat and completion shapes, streaming framing, usage counts,
// /v1/models, /health, authentication, every error status with OpenAI's error object, and
// /metrics as Prometheus text; sampling parameters (logit_bias, penalties) and logprobs.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "server_process.h"

namespace pocket::test {
namespace {

const std::string kKey = "test-key-123";

std::string args_main() { return "-m " + model_path("tiny-smol-q8_0.gguf") + " --api-key " + kKey + " --parallel 2 -c 512 --max-tokens 200"; }

TEST(ServerApi, ChatStreamCompletionModels) {
  ServerProcess srv(args_main());
  auto c = srv.client(kKey);
  const HttpResult r = post_json(c, "/v1/chat/completions", chat_body("Hello there", 8));
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& b = r.body;
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_TRUE(b["id"].is_string() && b["created"].is_number_integer() && b["model"] == "m");
  const json& ch = b["choices"][0];
  EXPECT_EQ(ch["index"], 0);
  EXPECT_EQ(ch["message"]["role"], "assistant");
  ASSERT_TRUE(ch["message"]["content"].is_string());
  EXPECT_TRUE(ch["finish_reason"] == "length" || ch["finish_reason"] == "stop");
  const json& u = b["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 0);
  EXPECT_LE(u["completion_tokens"].get<int>(), 8);
  if (ch["finish_reason"] == "length") {
    EXPECT_EQ(u["completion_tokens"], 8);
  }
  EXPECT_EQ(u["total_tokens"].get<int>(), u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());

  // Streaming: role first, content deltas, a finish chunk, the usage chunk, then [DONE].
  json sb = chat_body("Hello there", 8, true);
  sb["stream_options"] = {{"include_usage", true}};
  auto sres = c.Post("/v1/chat/completions", sb.dump(), "application/json");
  ASSERT_TRUE(sres);
  EXPECT_EQ(sres->status, 200);
  EXPECT_NE(sres->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  const auto events = sse_events(sres->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  std::string finish;
  json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json e = json::parse(events[i]);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_EQ(e["id"], json::parse(events[0])["id"]);
    if (e.contains("usage") && !e["usage"].is_null()) {
      usage = e["usage"];
      EXPECT_TRUE(e["choices"].empty());
      continue;
    }
    const json& d = e["choices"][0]["delta"];
    if (i == 0) {
      EXPECT_EQ(d["role"], "assistant");
    }
    if (d.contains("content")) text += d["content"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, ch["message"]["content"].get<std::string>());
  EXPECT_EQ(finish, ch["finish_reason"].get<std::string>());
  EXPECT_EQ(usage["prompt_tokens"], u["prompt_tokens"]);
  EXPECT_EQ(usage["completion_tokens"], u["completion_tokens"]);
  // The same prompt again: all but its last token come from the slot's kept KV.
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], u["prompt_tokens"].get<int>() - 1);

  // Completions (plain and streamed), stop strings.
  const HttpResult cr = post_json(c, "/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}});
  ASSERT_EQ(cr.status, 200) << cr.raw;
  EXPECT_EQ(cr.body["object"], "text_completion");
  const std::string ctext = cr.body["choices"][0]["text"];
  auto cs = c.Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}, {"stream", true}}.dump(),
                   "application/json");
  ASSERT_TRUE(cs);
  std::string streamed;
  for (const auto& e : sse_events(cs->body))
    if (e != "[DONE]") streamed += json::parse(e)["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(streamed, ctext);
  if (ctext.size() >= 3) {
    const std::string stop = ctext.substr(ctext.size() / 2, 2);
    const HttpResult sr = post_json(c, "/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}, {"stop", stop}});
    EXPECT_EQ(sr.body["choices"][0]["text"], ctext.substr(0, ctext.find(stop)));
    EXPECT_EQ(sr.body["choices"][0]["finish_reason"], "stop");
  }

  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  const json mj = json::parse(m->body);
  EXPECT_EQ(mj["object"], "list");
  EXPECT_EQ(mj["data"][0]["id"], "tiny-smol-q8_0.gguf");
  EXPECT_EQ(srv.terminate(), 0);
}

TEST(ServerApi, AuthAndHealth) {
  ServerProcess srv(args_main());
  auto anon = srv.client();
  auto health = anon.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);  // open without a key
  for (const char* path : {"/v1/models", "/metrics"}) {
    auto r = anon.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    HttpResult hr{r->status, json::parse(r->body, nullptr, false), r->body, r->headers};
    EXPECT_EQ(error_code(hr), "invalid_api_key");
  }
  EXPECT_EQ(post_json(anon, "/v1/chat/completions", chat_body("hi", 2)).status, 401);
  auto wrong = srv.client("test-key-12");
  EXPECT_EQ(post_json(wrong, "/v1/chat/completions", chat_body("hi", 2)).status, 401);
  auto right = srv.client(kKey);
  EXPECT_EQ(post_json(right, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
}

TEST(ServerApi, HealthIs503UntilLoaded) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " --debug-load-delay 1.5", false);
  auto c = srv.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  const HttpResult early = post_json(c, "/v1/chat/completions", chat_body("hi", 2));
  EXPECT_EQ(early.status, 503);
  EXPECT_EQ(error_code(early), "model_loading");
  for (int i = 0; i < 300; ++i) {
    h = c.Get("/health");
    if (h && h->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
}

TEST(ServerApi, ErrorStatuses) {
  ServerProcess srv(args_main() + " --max-body 4096 --max-image-pixels 500 --media-dir " + shared_path("images"));
  auto c = srv.client(kKey);
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::string msgs = R"("messages":[{"role":"user","content":"hi"}])";
  const std::vector<Case> cases = {
      {"{not json", 400, "invalid_json"},
      {"[1,2]", 400, "invalid_json"},
      {"{}", 400, "invalid_type"},
      {R"({"messages":[]})", 400, "invalid_value"},
      {R"({"messages":[{"role":"wizard","content":"x"}]})", 400, "invalid_value"},
      {R"({"messages":[{"role":"user","content":5}]})", 400, "invalid_type"},
      {"{" + msgs + R"(,"n":0})", 400, "invalid_value"},
      {"{" + msgs + R"(,"n":17})", 400, "invalid_value"},
      {"{" + msgs + R"(,"n":"2"})", 400, "invalid_type"},
      {"{" + msgs + R"(,"max_tokens":201})", 400, "max_tokens_exceeded"},
      {"{" + msgs + R"(,"max_completion_tokens":0})", 400, "invalid_value"},
      {"{" + msgs + R"(,"temperature":"hot"})", 400, "invalid_type"},
      {"{" + msgs + R"(,"temperature":9})", 400, "invalid_value"},
      {"{" + msgs + R"(,"stop":[1]})", 400, "invalid_type"},
      {"{" + msgs + R"(,"tool_choice":"required"})", 400, "invalid_value"},
      {"{" + msgs + R"(,"response_format":{"type":"json_schema"}})", 400, "invalid_type"},
      {"{" + msgs + R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","patternProperties":{}}}}})",
       400, "unsupported_value"},
      {"{" + msgs + R"(,"response_format":{"type":"yaml"}})", 400, "unsupported_value"},
      {"{" + msgs + R"(,"logit_bias":{"abc":1}})", 400, "invalid_value"},
      {"{" + msgs + R"(,"logit_bias":{"5":101}})", 400, "invalid_value"},
      {"{" + msgs + R"(,"logit_bias":{"99999999":1}})", 400, "invalid_value"},
      {"{" + msgs + R"(,"logit_bias":[1]})", 400, "invalid_type"},
      {"{" + msgs + R"(,"frequency_penalty":3})", 400, "invalid_value"},
      {"{" + msgs + R"(,"top_k":-1})", 400, "invalid_type"},
      {"{" + msgs + R"(,"min_p":2})", 400, "invalid_value"},
      {"{" + msgs + R"(,"top_logprobs":3})", 400, "invalid_value"},
      {"{" + msgs + R"(,"logprobs":true,"top_logprobs":21})", 400, "invalid_value"},
      {"{" + msgs + R"(,"reasoning_effort":"low"})", 400, "unsupported_value"},
      {"{" + msgs + R"(,"modalities":["text","audio"]})", 400, "unsupported_value"},
      {"{" + msgs + R"(,"parallel_tool_calls":"no"})", 400, "invalid_type"},
      // Text-only model (no --mmproj): images are refused before any fetch.
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"tiny_32x24.png"}}]}]})", 400,
       "unsupported_value"},
      {R"({"messages":[{"role":"user","content":[{"type":"audio","audio":{}}]}]})", 400, "unsupported_value"},
      {std::string(R"({"messages":[{"role":"user","content":")") + std::string(5000, 'a') + "\"}]}", 413, "body_too_large"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.body.substr(0, 120));
    const HttpResult r = post_json(c, "/v1/chat/completions", k.body);
    EXPECT_EQ(r.status, k.status) << r.raw;
    EXPECT_EQ(error_code(r), k.code);
  }
  const HttpResult comp = post_json(c, "/v1/completions", R"({"prompt":[1,2,3]})");
  EXPECT_EQ(comp.status, 400);
  EXPECT_EQ(error_code(comp), "invalid_type");
  auto nf = c.Get("/v2/nothing");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(json::parse(nf->body)["error"]["message"].is_string());
  // The server is still fine after all of that.
  EXPECT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
}

// Prompt caching: a 10-turn conversation prefills only what each turn adds; the kept KV gives
// the same greedy reply as a fresh prefill (a second server with nothing cached).
TEST(ServerApi, PromptCacheTenTurns) {
  ServerProcess srv(args_main());
  auto c = srv.client(kKey);
  json messages = json::array();
  int64_t prev_prompt = 0, prefilled = 0;
  std::vector<json> bodies;
  std::vector<std::string> replies;
  for (int turn = 0; turn < 10; ++turn) {
    messages.push_back(json{{"role", "user"}, {"content", "Turn " + std::to_string(turn) + ": tell me more."}});
    json body = json{{"messages", messages}, {"max_tokens", 6}, {"temperature", 0}};
    const HttpResult r = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    const int64_t prompt = r.body["usage"]["prompt_tokens"], cached = r.body["usage"]["prompt_tokens_details"]["cached_tokens"];
    if (turn > 0) EXPECT_GE(cached, prev_prompt) << "turn " << turn;  // the whole previous prompt was kept
    prefilled += prompt - cached;
    prev_prompt = prompt;
    const std::string reply = r.body["choices"][0]["message"]["content"];
    bodies.push_back(body);
    replies.push_back(reply);
    messages.push_back(json{{"role", "assistant"}, {"content", reply}});
  }
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  const std::smatch hit = [&] {
    std::smatch sm;
    std::regex_search(m->body, sm, std::regex("pocket_prompt_tokens_prefilled_total ([0-9]+)"));
    return sm;
  }();
  ASSERT_EQ(hit.size(), 2u);
  EXPECT_EQ(std::stoll(hit[1].str()), prefilled);
  // Fresh server, nothing cached: the same replies.
  ServerProcess fresh(args_main());
  auto f = fresh.client(kKey);
  const HttpResult r = post_json(f, "/v1/chat/completions", bodies[9]);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(r.body["choices"][0]["message"]["content"], replies[9]);
}

// n choices share the prompt's KV: with three sequence slots the prompt is prefilled once and
// each other choice computes only its last token; each choice is what a request with n = 1 and
// the seed + its index gives on a server that never saw the prompt.
TEST(ServerApi, ChoicesShareThePromptKv) {
  const auto prefilled = [](httplib::Client& c) {
    auto m = c.Get("/metrics");
    std::smatch sm;
    EXPECT_TRUE(m && std::regex_search(m->body, sm, std::regex("pocket_prompt_tokens_prefilled_total ([0-9]+)")));
    return sm.size() == 2 ? std::stoll(sm[1].str()) : -1;
  };
  json body = json{{"messages", json::array({json{{"role", "user"}, {"content", "Name three colours of the sea."}}})},
                   {"max_tokens", 10}, {"temperature", 1.0}, {"seed", 7}, {"n", 3}};
  const std::string args = "-m " + model_path("tiny-smol-q8_0.gguf") + " --api-key " + kKey + " -c 512";
  ServerProcess srv(args + " --parallel 3");
  auto c = srv.client(kKey);
  const HttpResult r = post_json(c, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["choices"].size(), 3u);
  const int64_t prompt = r.body["usage"]["prompt_tokens"];
  EXPECT_EQ(prefilled(c), prompt + 2);
  int64_t completion = 0;
  std::set<std::string> distinct;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.body["choices"][i]["index"], i);
    ServerProcess fresh(args);
    auto f = fresh.client(kKey);
    json one = body;
    one["n"] = 1;
    one["seed"] = 7 + i;
    const HttpResult o = post_json(f, "/v1/chat/completions", one);
    ASSERT_EQ(o.status, 200) << o.raw;
    EXPECT_EQ(o.body["choices"][0]["message"]["content"], r.body["choices"][i]["message"]["content"]) << "choice " << i;
    completion += o.body["usage"]["completion_tokens"].get<int64_t>();
    distinct.insert(r.body["choices"][i]["message"]["content"].get<std::string>());
  }
  EXPECT_EQ(r.body["usage"]["completion_tokens"], completion);
  EXPECT_GT(distinct.size(), 1u) << "three sampled choices should not all be the same";
}

// logprobs are the model's log-softmax: checked against `pocket logits` (float32 logits of the
// same prompt, log-softmax taken here in double) for the legacy completions form, and for the
// chat form against their own invariants (greedy picks the top alternative; best first).
TEST(ServerApi, LogprobsAreTheModelsLogSoftmax) {
  ServerProcess srv(args_main());
  auto c = srv.client(kKey);
  const std::string prompt = "Once upon a time";
  const HttpResult r = post_json(c, "/v1/completions",
                                 json{{"prompt", prompt}, {"max_tokens", 1}, {"temperature", 0}, {"logprobs", 3}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& lp = r.body["choices"][0]["logprobs"];
  ASSERT_EQ(lp["token_logprobs"].size(), 1u) << r.raw;
  const std::string out = binary_path("logprobs_check.f32");
  const std::string cmd = binary_path("bin/pocket") + " logits -t 2 -m " + model_path("tiny-smol-q8_0.gguf") + " -p '" + prompt +
                          "' -o " + out + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out, std::ios::binary | std::ios::ate);
  const size_t n_pos = r.body["usage"]["prompt_tokens"].get<size_t>();
  const size_t n_vocab = static_cast<size_t>(f.tellg()) / sizeof(float) / n_pos;
  std::vector<float> last(n_vocab);
  f.seekg(static_cast<std::streamoff>((n_pos - 1) * n_vocab * sizeof(float)));
  f.read(reinterpret_cast<char*>(last.data()), static_cast<std::streamsize>(n_vocab * sizeof(float)));
  double mx = last[0], z = 0;
  for (float v : last) mx = std::max<double>(mx, v);
  for (float v : last) z += std::exp(v - mx);
  std::vector<double> ls;
  for (float v : last) ls.push_back(v - mx - std::log(z));
  std::sort(ls.rbegin(), ls.rend());
  EXPECT_NEAR(lp["token_logprobs"][0].get<double>(), ls[0], 2e-3);  // greedy: the most likely token
  std::vector<double> top;
  for (const auto& [tok, v] : lp["top_logprobs"][0].items()) top.push_back(v.get<double>());
  ASSERT_EQ(top.size(), 3u) << lp.dump();
  std::sort(top.rbegin(), top.rend());
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(top[k], ls[k], 2e-3) << k;

  for (bool stream : {false, true}) {
    json body = chat_body("Tell me a story", 6, stream);
    body["logprobs"] = true;
    body["top_logprobs"] = 2;
    body["stream_options"] = {{"include_usage", true}};
    const HttpResult h = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(h.status, 200) << h.raw;
    json content = json::array();
    int64_t generated = 0;
    if (!stream) {
      content = h.body["choices"][0]["logprobs"]["content"];
      generated = h.body["usage"]["completion_tokens"];
    } else {
      for (const auto& e : sse_events(h.raw)) {
        if (e == "[DONE]") continue;
        const json j = json::parse(e);
        if (j.contains("usage") && j["usage"].is_object()) generated = j["usage"]["completion_tokens"];
        if (j["choices"].empty() || j["choices"][0]["logprobs"].is_null()) continue;
        for (const json& t : j["choices"][0]["logprobs"]["content"]) content.push_back(t);
      }
    }
    ASSERT_EQ(static_cast<int64_t>(content.size()), generated) << stream << " " << h.raw;
    for (const json& t : content) {
      ASSERT_EQ(t["top_logprobs"].size(), 2u);
      EXPECT_LE(t["logprob"].get<double>(), 0.0);
      EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
      EXPECT_EQ(t["token"], t["top_logprobs"][0]["token"]);  // greedy
      EXPECT_FLOAT_EQ(t["logprob"].get<float>(), t["top_logprobs"][0]["logprob"].get<float>());
      EXPECT_TRUE(t["bytes"].is_array());
    }
  }
}

// Sampling parameters reach the sampler: a +100 logit_bias makes every generated token that
// token (the text is one piece repeated), and penalties and the extensions are accepted.
TEST(ServerApi, LogitBiasAndPenaltiesAreHonoured) {
  ServerProcess srv(args_main());
  auto c = srv.client(kKey);
  for (int id : {300, 1234}) {
    json body = chat_body("Say something", 6);
    body["temperature"] = 0.7;
    body["seed"] = 1;
    body["logit_bias"] = {{std::to_string(id), 100}};
    const HttpResult r = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.body["usage"]["completion_tokens"], 6);
    const std::string text = r.body["choices"][0]["message"]["content"];
    ASSERT_FALSE(text.empty());
    // Six copies of one piece (the first may lose its leading space to the streamer's rule).
    const std::string piece = text.substr(text.size() - text.size() / 6 * 1);
    bool repeated = text.size() >= piece.size() * 5;
    for (size_t k = 1; k <= 5 && repeated; ++k)
      repeated = text.compare(text.size() - k * piece.size(), piece.size(), piece) == 0;
    EXPECT_TRUE(repeated) << id << ": " << text;
  }
  json body = chat_body("Say something", 8);
  body["frequency_penalty"] = 1.5;
  body["presence_penalty"] = 0.5;
  body["top_k"] = 20;
  body["min_p"] = 0.05;
  body["repetition_penalty"] = 1.1;
  body["top_logprobs"] = 0;
  body["modalities"] = {"text"};
  EXPECT_EQ(post_json(c, "/v1/chat/completions", body).status, 200);
}

TEST(ServerApi, MetricsArePrometheusText) {
  ServerProcess srv(args_main());
  auto c = srv.client(kKey);
  ASSERT_EQ(post_json(c, "/v1/chat/completions", chat_body("Hello", 5)).status, 200);
  ASSERT_EQ(post_json(c, "/v1/chat/completions", "nope").status, 400);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  // Text exposition format 0.0.4: comments (# HELP / # TYPE) or `name{labels} value`.
  const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  const std::regex sample(R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)re");
  std::map<std::string, double> values;
  std::set<std::string> typed;
  std::istringstream ss(m->body);
  int n_lines = 0;
  for (std::string line; std::getline(ss, line);) {
    ++n_lines;
    std::smatch mm;
    if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
      if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, mm, sample)) << line;
    values[line.substr(0, line.rfind(' '))] = std::stod(mm[5].str() == "+Inf" ? "inf" : mm[5].str());
  }
  EXPECT_GT(n_lines, 20);
  for (const char* family : {"pocket_requests_total", "pocket_prompt_tokens_total", "pocket_generated_tokens_total",
                             "pocket_time_to_first_token_seconds", "pocket_token_latency_seconds", "pocket_queue_depth",
                             "pocket_active_sequences", "pocket_kv_cells_used"})
    EXPECT_TRUE(typed.count(family)) << family;
  EXPECT_EQ((values["pocket_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"]), 1);
  EXPECT_EQ((values["pocket_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}"]), 1);
  EXPECT_EQ(values["pocket_generated_tokens_total"], 5);
  EXPECT_GT(values["pocket_prompt_tokens_total"], 0);
  EXPECT_EQ(values["pocket_time_to_first_token_seconds_count"], 1);
  EXPECT_EQ(values["pocket_token_latency_seconds_count"], 4);
  EXPECT_EQ(values["pocket_active_sequences"], 0);
  EXPECT_EQ(values["pocket_queue_depth"], 0);
}

}  // namespace
}  // namespace pocket::test
