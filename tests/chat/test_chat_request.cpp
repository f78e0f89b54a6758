// ChatRequest -> template context, OpenAI-style request parsing and the injectable clock.
// The expected contexts are the ones recorded in ../shared/golden/chat/renderings.json
// (the exact variables the reference renderings were produced with).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/chat.h"

namespace pocket {
namespace {

using json = nlohmann::ordered_json;

json golden_context(const std::string& conversation, bool tools) {
  std::ifstream f(std::string(POCKET_SHARED_DIR) + "/golden/chat/renderings.json");
  std::ostringstream ss;
  ss << f.rdbuf();
  for (const auto& c : json::parse(ss.str())) {
    if (c["conversation"] == conversation && c["tools"] == tools) return c["context"];
  }
  ADD_FAILURE() << "no golden case " << conversation;
  return json();
}

ChatRequest base_request() {
  ChatRequest r;
  r.bos_token = "<s>";
  r.eos_token = "</s>";
  r.add_generation_prompt = true;
  r.extra_context = json{{"date_string", "24 Nov 2026"}};
  return r;
}

TEST(ChatRequest, SystemMultiTurnMatchesGoldenContext) {
  ChatRequest r = base_request();
  r.messages = {ChatMessage::from_text("system", "You are a concise assistant."), ChatMessage::from_text("user", "Hi there!"),
                ChatMessage::from_text("assistant", "Hello! How can I help?"),
                ChatMessage::from_text("user", "Name three colours.\nOne per line.")};
  EXPECT_EQ(r.to_context(), golden_context("system_multi_turn", false));
}

TEST(ChatRequest, ImagePartsMatchGoldenContext) {
  ChatRequest r = base_request();
  ChatMessage m;
  m.role = "user";
  m.parts = {{"text", "Compare", {}}, {"image", "", {}}, {"text", "with", {}}, {"image", "", {}}};
  r.messages = {m};
  EXPECT_EQ(r.to_context(), golden_context("image_two", false));
  ChatMessage v;
  v.role = "user";
  v.parts = {{"video", "", {}}, {"text", "Describe this video.", {}}};
  r.messages = {v};
  EXPECT_EQ(r.to_context(), golden_context("video", false));
}

TEST(ChatRequest, ToolRoundMatchesGoldenContext) {
  const json golden = golden_context("tool_call_round", true);
  ChatRequest r = base_request();
  r.tools = golden["tools"];
  r.messages.push_back(ChatMessage::from_text("user", "What is the weather in Paris?"));
  ChatMessage call = ChatMessage::from_text("assistant", "");
  call.tool_calls.push_back({"call12345", "get_weather", json{{"city", "Paris"}, {"unit", "celsius"}}});
  r.messages.push_back(call);
  ChatMessage result = ChatMessage::from_text("tool", "{\"temperature\": 21, \"sky\": \"clear\"}");
  result.tool_call_id = "call12345";
  result.name = "get_weather";
  r.messages.push_back(result);
  // The golden context lists `tools` before date_string; key order only matters for
  // templates that print the whole context, so compare as unordered JSON.
  EXPECT_EQ(nlohmann::json::parse(r.to_context().dump()), nlohmann::json::parse(golden.dump()));
}

TEST(ChatRequest, FromOpenAi) {
  const json body = json::parse(R"({
    "messages": [
      {"role": "system", "content": "sys"},
      {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "f", "arguments": "{\"a\": 1, \"b\": [true]}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "ok"}
    ],
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "add_generation_prompt": false
  })");
  const ChatRequest r = ChatRequest::from_openai(body);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_FALSE(r.add_generation_prompt);
  EXPECT_EQ(r.messages[1].parts[1].type, "image");
  EXPECT_EQ(r.messages[1].parts[1].fields["image_url"]["url"], "data:x");
  EXPECT_FALSE(r.messages[2].text.has_value());
  ASSERT_EQ(r.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[2].tool_calls[0].arguments, json::parse(R"({"a": 1, "b": [true]})"));
  const json ctx = r.to_context();
  EXPECT_TRUE(ctx["messages"][2]["content"].is_null());
  EXPECT_EQ(ctx["messages"][2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(ctx["messages"][3]["tool_call_id"], "c1");
  EXPECT_EQ(ctx["tools"].size(), 1u);
  // Rendered through a real template, tool-call arguments come out as JSON.
  const std::string out = render_chat_template(
      "{% for m in messages %}{% for t in m.tool_calls or [] %}{{ t.function.arguments|tojson }}{% endfor %}{% endfor %}", ctx);
  EXPECT_EQ(out, "{\"a\": 1, \"b\": [true]}");
  EXPECT_THROW(ChatRequest::from_openai(json::parse(R"({"messages": [{"content": "no role"}]})")), Error);
  EXPECT_THROW(ChatRequest::from_openai(json::parse(R"({"messages": [{"role": "user", "content": 5}]})")), Error);
  EXPECT_THROW(ChatRequest::from_openai(json::parse(R"([])")), Error);
}

TEST(ChatClock, ParseAndUse) {
  const ChatClock c = ChatClock::parse("2026-11-24T12:00:00");
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 11);
  EXPECT_EQ(c.day, 24);
  EXPECT_EQ(c.hour, 12);
  EXPECT_EQ(ChatClock::parse("2024-02-29 07:05").minute, 5);
  EXPECT_EQ(ChatClock::parse("2024-02-29").hour, 0);
  EXPECT_THROW(ChatClock::parse("2026-13-01"), Error);
  EXPECT_THROW(ChatClock::parse("2026-11-24T25:00"), Error);
  EXPECT_THROW(ChatClock::parse("yesterday"), Error);
  EXPECT_THROW(ChatClock::parse("2026-11-24T12:00:00Z"), Error);
  ChatRenderOptions o;
  o.now = ChatClock::parse("2024-02-29T23:59:58");
  // Expected strings: Python's datetime(2024, 2, 29, 23, 59, 58).strftime(...).
  EXPECT_EQ(render_chat_template("{{ strftime_now('%d %b %Y %A %j %I:%M:%S %p') }}", json::object(), o),
            "29 Feb 2024 Thursday 060 11:59:58 PM");
  o.now = ChatClock::parse("2000-01-01T00:00:00");
  EXPECT_EQ(render_chat_template("{{ strftime_now('%a %U %W %u %w %y %C') }}", json::object(), o),
            "Sat 00 00 6 6 00 20");
}

TEST(ChatTemplate, ParseOnceRenderMany) {
  ChatTemplate t("{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}");
  ChatRequest r;
  r.bos_token = "<s>";
  r.messages = {ChatMessage::from_text("user", "a")};
  EXPECT_EQ(t.render(r.to_context()), "<s>[user]a");
  r.messages.push_back(ChatMessage::from_text("assistant", "b"));
  EXPECT_EQ(t.render(r.to_context()), "<s>[user]a[assistant]b");
  ChatTemplate moved = std::move(t);
  EXPECT_EQ(moved.render(r.to_context()), "<s>[user]a[assistant]b");
}

}  // namespace
}  // namespace pocket
