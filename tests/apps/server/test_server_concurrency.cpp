// `pocket serve` under concurrency: with --parallel 4, four simultaneous greedy requests give
// exactly the text each gives alone; the bounded queue answers 429 with Retry-After; a client
// that disconnects cancels its generation; SIGTERM finishes in-flight work and exits 0.
#include <atomic>
#include <future>
#include <map>

#include "server_process.h"

namespace pocket::test {
namespace {

std::map<std::string, double> scrape(httplib::Client& c) {
  std::map<std::string, double> v;
  auto r = c.Get("/metrics");
  if (!r) return v;
  std::istringstream ss(r->body);
  for (std::string line; std::getline(ss, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    v[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
  }
  return v;
}

TEST(ServerConcurrency, Parallel4EqualsOneAtATime) {
  for (const char* model : {"tiny-smol-q8_0.gguf", "tiny-ministral3-f16.gguf"}) {
    SCOPED_TRACE(model);
    ServerProcess srv("-m " + model_path(model) + " --parallel 4 -c 512");
    const std::vector<std::string> prompts = {"Tell me a story", "What is 2+2?", "Name three colours.", "Hi"};
    auto run = [&](size_t i, bool stream) {
      auto c = srv.client();
      // Different lengths so sequences join and leave the batch at different steps.
      json body = chat_body(prompts[i], 20 + 9 * static_cast<int>(i), stream);
      auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
      if (!r || r->status != 200) return std::string("HTTP error");
      if (!stream) return json::parse(r->body)["choices"][0]["message"]["content"].get<std::string>();
      std::string text;
      for (const auto& e : sse_events(r->body)) {
        if (e == "[DONE]") continue;
        const json d = json::parse(e)["choices"][0]["delta"];
        if (d.contains("content")) text += d["content"].get<std::string>();
      }
      return text;
    };
    std::vector<std::string> alone;
    for (size_t i = 0; i < prompts.size(); ++i) alone.push_back(run(i, false));
    for (bool stream : {false, true}) {
      std::vector<std::future<std::string>> fs;
      for (size_t i = 0; i < prompts.size(); ++i) fs.push_back(std::async(std::launch::async, run, i, stream));
      for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(fs[i].get(), alone[i]) << "request " << i << " stream " << stream;
    }
    auto c = srv.client();
    const auto m = scrape(c);
    EXPECT_EQ(m.at("pocket_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 12);
    // The concurrent rounds really shared decode steps (the first round alone has one row per step).
    EXPECT_GT(m.at("pocket_decode_rows_total"), m.at("pocket_decode_steps_total") + 20);
  }
}

TEST(ServerConcurrency, QueueFullIs429) {
  // One sequence, one waiting: while a long request runs and another waits, a third is refused.
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " --parallel 1 --max-queue 1 -c 4096 --max-tokens 4000 --shutdown-grace 0.5");
  auto long_req = [&] {
    auto c = srv.client();
    return post_json(c, "/v1/chat/completions", chat_body("Go on forever", 4000)).status;
  };
  auto a = std::async(std::launch::async, long_req);
  auto c = srv.client();
  for (int i = 0; i < 500 && scrape(c)["pocket_active_sequences"] < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto b = std::async(std::launch::async, long_req);
  for (int i = 0; i < 500 && scrape(c)["pocket_queue_depth"] < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const HttpResult r = post_json(c, "/v1/chat/completions", chat_body("me too", 4));
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(error_code(r), "queue_full");
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after = retry_after || (k == "Retry-After" && std::atoi(v.c_str()) >= 1);
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(srv.terminate(), 0);  // cancels the long ones after the grace period at most
  a.get();
  b.get();
}

TEST(ServerConcurrency, DisconnectCancelsGeneration) {
  // The longest answer the tiny model's 8192-token context allows, so that even at its full
  // decode speed (~4000 tok/s alone) it is still running when the client hangs up.
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 8192 --max-tokens 8000");
  for (bool stream : {true, false}) {
    SCOPED_TRACE(stream ? "stream" : "json");
    std::atomic<bool> abort{false};
    std::thread t([&] {
      auto c = srv.client();
      int received = 0;
      // Returning false from the receiver closes the connection mid-response.
      post_streaming(c, "/v1/chat/completions", chat_body("Keep talking", 8000, stream).dump(),
                     [&](const char*, size_t) { return !abort.load() && (!stream || ++received < 3); });
    });
    auto c = srv.client();
    std::map<std::string, double> m;
    for (int i = 0; i < 1000; ++i) {
      m = scrape(c);
      if (m["pocket_active_sequences"] >= 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!stream) {
      // The JSON answer only writes keep-alive spaces; let a few go by, then hang up.
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      abort = true;
    }
    t.join();
    for (int i = 0; i < 500; ++i) {
      m = scrape(c);
      if (m["pocket_active_sequences"] == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(m["pocket_active_sequences"], 0);
    // Cancelled long before its 8000 tokens (the context holds the prompt + 8000 at most).
    EXPECT_LT(m["pocket_generated_tokens_total"], 7000);
    const double t0 = m["pocket_generated_tokens_total"];
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(scrape(c)["pocket_generated_tokens_total"], t0);
  }
  EXPECT_EQ(srv.terminate(), 0);
}

TEST(ServerConcurrency, SigtermFinishesInFlightAndExitsZero) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 1024 --shutdown-grace 20");
  auto inflight = std::async(std::launch::async, [&] {
    auto c = srv.client();
    return post_json(c, "/v1/chat/completions", chat_body("Long answer please", 300));
  });
  auto c = srv.client();
  for (int i = 0; i < 1000 && scrape(c)["pocket_active_sequences"] < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(srv.pid(), SIGTERM);
  const HttpResult r = inflight.get();
  EXPECT_EQ(r.status, 200) << r.raw;  // finished, not cut off
  EXPECT_EQ(r.body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(srv.terminate(20, false), 0);
  // No longer accepting.
  auto after = srv.client().Get("/health");
  EXPECT_FALSE(after);
}

TEST(ServerConcurrency, SigtermCancelsAfterGrace) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 4096 --max-tokens 4000 --shutdown-grace 0.2");
  std::atomic<bool> done{false};
  std::thread t([&] {
    auto c = srv.client();
    post_streaming(c, "/v1/chat/completions", chat_body("Forever", 4000, true).dump(), [&](const char*, size_t) { return true; });
    done = true;
  });
  auto c = srv.client();
  for (int i = 0; i < 1000 && scrape(c)["pocket_active_sequences"] < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(srv.terminate(10), 0);
  t.join();
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace pocket::test
