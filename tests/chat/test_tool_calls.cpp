// Tool-call parsing: round trips through the real chat templates against the golden
// renderings in ../shared/golden/chat (the model output is cut from a golden rendering,
// parsed, put back into the conversation and re-rendered byte-exact), streaming at every
// split point equal to one-shot parsing, malformed calls reported as errors, limits.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "chat/tool_calls.h"
#include "core/error.h"

namespace pocket {
namespace {

using json = nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string template_text(const std::string& name) {
  return read_text(std::string(POCKET_SHARED_DIR) + "/templates/" + name);
}

const json& golden_cases() {
  static const json cases = json::parse(read_text(std::string(POCKET_SHARED_DIR) + "/golden/chat/renderings.json"));
  return cases;
}

const json& golden(const std::string& tmpl, const std::string& conversation, bool tools) {
  for (const json& c : golden_cases())
    if (c["template"] == tmpl && c["conversation"] == conversation && c["tools"] == tools) return c;
  static const json none;
  ADD_FAILURE() << "no golden case " << tmpl << " / " << conversation;
  return none;
}

ChatRenderOptions render_options() {
  ChatRenderOptions o;
  o.now = ChatClock::parse("2026-11-24T12:00:00");  // the clock the goldens were frozen at
  return o;
}

// A request carrying the golden context's variables (tools, bos/eos, date_string).
ChatRequest request_like(const json& context) {
  ChatRequest r;
  r.bos_token = context["bos_token"].get<std::string>();
  r.eos_token = context["eos_token"].get<std::string>();
  r.add_generation_prompt = context["add_generation_prompt"].get<bool>();
  if (context.contains("tools")) r.tools = context["tools"];
  r.extra_context = json::object();
  if (context.contains("date_string")) r.extra_context["date_string"] = context["date_string"];
  return r;
}

ToolCallParseResult parse_streamed(std::string_view text, const std::vector<size_t>& cuts,
                                   const ToolCallFormat& format = ToolCallFormat::mistral_v13()) {
  ToolCallParser p(format);
  ToolCallParseResult r;
  size_t at = 0;
  for (size_t cut : cuts) {
    r.append(p.feed(text.substr(at, cut - at)));
    at = cut;
  }
  r.append(p.feed(text.substr(at)));
  r.append(p.finish());
  return r;
}

void expect_same(const ToolCallParseResult& a, const ToolCallParseResult& b, const std::string& where) {
  EXPECT_EQ(a.content, b.content) << where;
  EXPECT_EQ(a.calls, b.calls) << where;
  EXPECT_EQ(a.errors, b.errors) << where;
}

// ---- round trips against the golden renderings ------------------------------------------

// The golden "tool_call_round" case renders user → assistant(tool call) → tool. We render
// the user turn alone (must be the golden's prefix), take the assistant's text from the
// golden as "model output", parse it, append the parsed turn plus the tool result, and
// must reproduce the golden rendering byte for byte.
void golden_round_trip(const std::string& tmpl_name, bool tools, const std::string& eos,
                       const ToolCallFormat& format) {
  SCOPED_TRACE(tmpl_name + (tools ? " / tools" : ""));
  const json& g = golden(tmpl_name, "tool_call_round", tools);
  const std::string expected = g["rendered"].get<std::string>();
  const json& ctx = g["context"];
  const ChatTemplate tmpl(template_text(tmpl_name));

  ChatRequest req = request_like(ctx);
  req.messages.push_back(ChatMessage::from_text("user", ctx["messages"][0]["content"].get<std::string>()));
  const std::string prompt = tmpl.render(req.to_context(), render_options());
  ASSERT_EQ(expected.compare(0, prompt.size(), prompt), 0) << prompt;

  const size_t end = expected.find(eos, prompt.size());
  ASSERT_NE(end, std::string::npos);
  const std::string model_output = expected.substr(prompt.size(), end - prompt.size());

  const ToolCallParseResult parsed = parse_tool_calls(model_output, format);
  EXPECT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.calls.size(), 1u) << model_output;
  const json& ref_call = ctx["messages"][1]["tool_calls"][0];
  EXPECT_EQ(parsed.calls[0].name, ref_call["function"]["name"].get<std::string>());
  EXPECT_EQ(parsed.calls[0].arguments, ref_call["function"]["arguments"]);

  req.messages.push_back(parsed.to_assistant_message());
  ChatMessage result = ChatMessage::from_text("tool", ctx["messages"][2]["content"].get<std::string>());
  result.tool_call_id = parsed.calls[0].id;
  result.name = parsed.calls[0].name;
  req.messages.push_back(result);
  EXPECT_EQ(tmpl.render(req.to_context(), render_options()), expected);
}

TEST(ToolCallsGolden, MistralV13RoundTrip) {
  for (const char* t : {"mistral-common-v13.jinja", "mistral-common-v13_image.jinja"})
    for (bool tools : {false, true}) golden_round_trip(t, tools, "</s>", ToolCallFormat::mistral_v13());
}

TEST(ToolCallsGolden, MistralV11WithCallIdRoundTrip) {
  // Mistral Small 3.2 writes [CALL_ID]: the id is the model's, and the tool result cites it.
  for (bool tools : {false, true})
    golden_round_trip("Mistral-Small-3.2-24B-Instruct-2506.jinja", tools, "</s>", ToolCallFormat::mistral_v11());
  const json& g = golden("Mistral-Small-3.2-24B-Instruct-2506.jinja", "tool_call_round", true);
  const std::string r = g["rendered"].get<std::string>();
  const size_t at = r.find("[TOOL_CALLS]");
  const auto parsed = parse_tool_calls(r.substr(at, r.find("</s>", at) - at), ToolCallFormat::mistral_v11());
  ASSERT_EQ(parsed.calls.size(), 1u);
  EXPECT_EQ(parsed.calls[0].id, g["context"]["messages"][1]["tool_calls"][0]["id"].get<std::string>());
}

TEST(ToolCallsGolden, HermesRoundTripQwen) {
  for (bool tools : {false, true})
    golden_round_trip("Qwen-Qwen2.5-7B-Instruct.jinja", tools, "<|im_end|>", ToolCallFormat::hermes());
}

// Two calls, as the brief's example: v13 concatenates `[TOOL_CALLS]name[ARGS]{json}` per call
// (the template's loop; the golden shows the one-call shape), then </s>, then one
// [TOOL_RESULTS]…[/TOOL_RESULTS] per result. The re-rendered history must contain the model's
// output verbatim, so a KV cache built while generating stays valid.
TEST(ToolCallsGolden, TwoCallsRoundTripV13) {
  const json& g = golden("mistral-common-v13.jinja", "tool_call_round", true);
  const json& ctx = g["context"];
  ChatRequest req = request_like(ctx);
  json time_tool = ctx["tools"][0];
  time_tool["function"]["name"] = "get_time";
  time_tool["function"]["description"] = "Current time in a time zone";
  time_tool["function"]["parameters"] =
      json::parse(R"({"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]})");
  req.tools.push_back(time_tool);
  req.messages.push_back(ChatMessage::from_text("user", "Weather and time in Paris?"));
  const ChatTemplate tmpl(template_text("mistral-common-v13.jinja"));
  const std::string prompt = tmpl.render(req.to_context(), render_options());
  // Same structure as the golden: tools block before the first [INST], prompt ends with [/INST].
  const std::string golden_text = g["rendered"].get<std::string>();
  EXPECT_EQ(prompt.rfind("<s>[AVAILABLE_TOOLS]", 0), 0u);
  EXPECT_EQ(prompt.substr(prompt.size() - 7), "[/INST]");

  for (const std::string content : {"", "Let me check both."}) {
    SCOPED_TRACE(content);
    const std::string output =
        content + "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{\"tz\": \"CET\"}";
    const ToolCallParseResult parsed = parse_tool_calls(output);
    EXPECT_EQ(parsed.content, content);
    EXPECT_TRUE(parsed.errors.empty());
    ASSERT_EQ(parsed.calls.size(), 2u);
    EXPECT_EQ(parsed.calls[0].name, "get_weather");
    EXPECT_EQ(parsed.calls[0].arguments, json::parse(R"({"city": "Paris"})"));
    EXPECT_EQ(parsed.calls[0].raw_arguments, R"({"city": "Paris"})");
    EXPECT_EQ(parsed.calls[1].name, "get_time");
    EXPECT_EQ(parsed.calls[1].arguments, json::parse(R"({"tz": "CET"})"));
    EXPECT_TRUE(is_valid_tool_call_id(parsed.calls[0].id));
    EXPECT_TRUE(is_valid_tool_call_id(parsed.calls[1].id));
    EXPECT_NE(parsed.calls[0].id, parsed.calls[1].id);

    ChatRequest turn = req;
    turn.messages.push_back(parsed.to_assistant_message());
    const std::string results[] = {R"({"temperature": 21, "sky": "clear"})", R"({"time": "14:05"})"};
    for (size_t i = 0; i < 2; ++i) {
      ChatMessage m = ChatMessage::from_text("tool", results[i]);
      m.tool_call_id = parsed.calls[i].id;
      m.name = parsed.calls[i].name;
      turn.messages.push_back(m);
    }
    const std::string rendered = tmpl.render(turn.to_context(), render_options());
    EXPECT_EQ(rendered, prompt + output + "</s>" + "[TOOL_RESULTS]" + results[0] + "[/TOOL_RESULTS]" +
                            "[TOOL_RESULTS]" + results[1] + "[/TOOL_RESULTS]");
  }
}

// ---- streaming ----------------------------------------------------------------------------

const std::vector<std::pair<std::string, ToolCallFormat>>& stream_cases() {
  static const std::vector<std::pair<std::string, ToolCallFormat>> cases = {
      {"[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{\"tz\": \"CET\"}",
       ToolCallFormat::mistral_v13()},
      {"Sure [a] [TOOL_CALL [TOOL_CALLS]f[ARGS] {\"q\": \"say \\\"hi\\\" [TOOL_CALLS]x\\\\\", \"n\": [1, {\"a\": []}]}\n",
       ToolCallFormat::mistral_v13()},
      {"[TOOL_CALLS]bad[ARGS]{\"a\": tru}[TOOL_CALLS]ok[ARGS]{}[TOOL_CALLS]x[ARGS]{\"b\": ]} tail[TOOL_CALLS]y[ARGS]{\"c\"",
       ToolCallFormat::mistral_v13()},
      {"[TOOL_CALLS]a[ARGS]{} trailing text [TOOL_CALLS][ARGS]{}[TOOL_CALLS]n m[ARGS]null[TOOL_CALLS]z[ARGS]null",
       ToolCallFormat::mistral_v13()},
      {"[TOOL_CALLS]get_weather[CALL_ID]abc123XYZ[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]t[ARGS][1]",
       ToolCallFormat::mistral_v11()},
      {"I'll call.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"</tool_call>\"}}\n</tool_call>\n"
       "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call> bye <tool_call>{\"nam",
       ToolCallFormat::hermes()},
  };
  return cases;
}

TEST(ToolCallsStream, EverySplitPointEqualsOneShot) {
  for (const auto& [text, format] : stream_cases()) {
    const ToolCallParseResult whole = parse_tool_calls(text, format);
    for (size_t cut = 0; cut <= text.size(); ++cut)
      expect_same(parse_streamed(text, {cut}, format), whole, text + " @" + std::to_string(cut));
    std::vector<size_t> every(text.size());
    for (size_t i = 0; i < text.size(); ++i) every[i] = i;
    expect_same(parse_streamed(text, every, format), whole, text + " byte by byte");
  }
}

TEST(ToolCallsStream, EveryPairOfSplitPointsEqualsOneShot) {
  const std::string& text = stream_cases()[0].first;
  const ToolCallParseResult whole = parse_tool_calls(text);
  ASSERT_EQ(whole.calls.size(), 2u);
  for (size_t a = 0; a <= text.size(); ++a)
    for (size_t b = a; b <= text.size(); ++b) {
      const ToolCallParseResult r = parse_streamed(text, {a, b});
      if (r.content != whole.content || r.calls != whole.calls || r.errors != whole.errors) {
        ADD_FAILURE() << "split at " << a << ", " << b;
        return;
      }
    }
}

TEST(ToolCallsStream, CallsArriveWhenTheirObjectCloses) {
  ToolCallParser p;
  auto r = p.feed("Checking.[TOOL_");
  EXPECT_EQ(r.content, "Checking.");  // "[TOOL_" is held back: it may open a call
  EXPECT_FALSE(p.in_tool_call());
  r = p.feed("CALLS]get_wea");
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(p.in_tool_call());
  EXPECT_EQ(p.partial_name(), "get_wea");
  r = p.feed("ther[AR");
  EXPECT_TRUE(r.empty());
  r = p.feed("GS]{\"city\": \"Pa}ris\"");
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(p.partial_arguments(), "{\"city\": \"Pa}ris\"");
  r = p.feed("}[TOOL_CALLS]");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments["city"], "Pa}ris");
  r = p.finish();
  ASSERT_EQ(r.errors.size(), 1u);  // the second call never got its name and [ARGS]
  EXPECT_FALSE(p.in_tool_call());
}

TEST(ToolCallsStream, HeldBackContentIsFlushedAtFinish) {
  ToolCallParser p;
  EXPECT_EQ(p.feed("array[0] and [TOOL").content, "array[0] and ");
  const auto r = p.finish();
  EXPECT_EQ(r.content, "[TOOL");
  EXPECT_TRUE(r.calls.empty() && r.errors.empty());
}

// ---- malformed calls ----------------------------------------------------------------------

TEST(ToolCallsErrors, InvalidJsonArgumentsAreReported) {
  const auto r = parse_tool_calls("[TOOL_CALLS]get_weather[ARGS]{\"city\": Paris}[TOOL_CALLS]get_time[ARGS]{\"tz\": \"CET\"}");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("invalid JSON"), std::string::npos);
  EXPECT_EQ(r.errors[0].name, "get_weather");
  EXPECT_EQ(r.errors[0].raw, "{\"city\": Paris}");
  ASSERT_EQ(r.calls.size(), 1u);  // the next call still parses
  EXPECT_EQ(r.calls[0].name, "get_time");
}

TEST(ToolCallsErrors, MalformedShapes) {
  struct Case {
    const char* text;
    const char* message_part;
    const char* raw;
  };
  const Case cases[] = {
      {"[TOOL_CALLS]f[ARGS]{\"a\": [1}", "mismatched", "{\"a\": [1}"},
      {"[TOOL_CALLS]f[ARGS]{\"a\": [1, 2]", "incomplete", "{\"a\": [1, 2]"},
      {"[TOOL_CALLS]f[ARGS]{\"a\": \"unterminated", "incomplete", "{\"a\": \"unterminated"},
      {"[TOOL_CALLS]f[ARGS][1, 2]", "not a JSON object", "[1, 2]"},
      {"[TOOL_CALLS]f[ARGS]\"text\"", "not a JSON object", "\"text\""},
      {"[TOOL_CALLS]f[ARGS]42 ", "not a JSON object", "42 "},
      {"[TOOL_CALLS]f[ARGS]", "without arguments", ""},
      {"[TOOL_CALLS]f[ARGS]  \n", "without arguments", ""},
      {"[TOOL_CALLS]f", "without [ARGS]", ""},
      {"[TOOL_CALLS][ARGS]{}", "empty tool name", "{}"},
      {"[TOOL_CALLS]get weather[ARGS]{}", "invalid tool name", "{}"},
      {"[TOOL_CALLS]f[ARGS]{} and more", "unexpected text", "and more"},
      {"[TOOL_CALLS]f[ARGS]{\"a\": 1}}", "unexpected text", "}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const auto r = parse_tool_calls(c.text);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find(c.message_part), std::string::npos) << r.errors[0].message;
    EXPECT_EQ(r.errors[0].raw, c.raw);
    EXPECT_TRUE(r.content.empty());
  }
}

TEST(ToolCallsErrors, NullArgumentsMeanEmptyObject) {
  // ref: mistral-common FunctionCall.validate_arguments turns None into "{}".
  const auto r = parse_tool_calls("[TOOL_CALLS]ping[ARGS]null");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, json::object());
}

TEST(ToolCallsErrors, CompleteCallKeptBeforeTrailingText) {
  const auto r = parse_tool_calls("[TOOL_CALLS]f[ARGS]{\"a\": 1}\n\nDone.");
  ASSERT_EQ(r.calls.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "Done.");
  EXPECT_TRUE(parse_tool_calls("[TOOL_CALLS]f[ARGS]{\"a\": 1}\n \t").errors.empty());
}

TEST(ToolCallsErrors, MarkersInsideJsonStringsAreData) {
  const auto r = parse_tool_calls(R"([TOOL_CALLS]echo[ARGS]{"text": "a [TOOL_CALLS]b[ARGS]{ \" } \\"})");
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments["text"], "a [TOOL_CALLS]b[ARGS]{ \" } \\");
}

TEST(ToolCallsErrors, HermesShapes) {
  const auto h = ToolCallFormat::hermes();
  auto r = parse_tool_calls("<tool_call>{\"arguments\": {}}</tool_call>", h);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("\"name\""), std::string::npos);
  r = parse_tool_calls("<tool_call>{\"name\": \"f\", \"arguments\": \"{bad\"}</tool_call>after", h);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "{bad");
  EXPECT_EQ(r.content, "after");
  ToolCallParserOptions lax;
  lax.validate_names = false;
  r = parse_tool_calls("<tool_call>{\"name\": \"" + std::string(65, 'n') + "\"}</tool_call>", h, lax);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("longer than 64"), std::string::npos);
  r = parse_tool_calls("<tool_call>{\"name\": \"f\", \"parameters\": {\"x\": 1}}", h);  // no end marker: EOS came first
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.calls[0].arguments, json::parse(R"({"x": 1})"));
}

// ---- limits -------------------------------------------------------------------------------

TEST(ToolCallsLimits, GarbageIsBounded) {
  ToolCallParserOptions opt;
  opt.max_argument_bytes = 1000;
  opt.max_nesting = 16;
  opt.max_error_raw_bytes = 100;
  {
    ToolCallParser p(ToolCallFormat::mistral_v13(), opt);
    auto r = p.feed("[TOOL_CALLS]" + std::string(100000, 'n'));
    EXPECT_LE(p.partial_name().size(), 64u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find("longer than 64"), std::string::npos);
    r = p.feed("[TOOL_CALLS]f[ARGS]{\"k\": \"" + std::string(100000, 'v'));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_LE(r.errors[0].raw.size(), 100u);
    EXPECT_LE(p.partial_arguments().size(), 1000u);
    r = p.feed("[TOOL_CALLS]f[ARGS]" + std::string(100, '['));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find("nested"), std::string::npos);
    r = p.feed(std::string(100000, 'x') + "[TOOL_CALLS]ok[ARGS]{}");  // skipped garbage, then a call
    EXPECT_EQ(r.calls.size(), 1u);
    EXPECT_TRUE(p.finish().empty());
  }
  // Trailing text is kept only up to the error cap.
  ToolCallParser p(ToolCallFormat::mistral_v13(), opt);
  p.feed("[TOOL_CALLS]f[ARGS]{}");
  p.feed(std::string(100000, 't'));
  const auto r = p.finish();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw.size(), 100u);
}

TEST(ToolCallsLimits, ErrorTextIsCutOnUtf8Boundaries) {
  ToolCallParserOptions opt;
  opt.max_error_raw_bytes = 5;
  const auto r = parse_tool_calls("[TOOL_CALLS]f[ARGS]{} ééé", ToolCallFormat::mistral_v13(), opt);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "éé");  // 4 bytes: the third é would be cut in half
}

// ---- ids, names, formats ------------------------------------------------------------------

TEST(ToolCallIds, DeterministicNineAlphanumerics) {
  std::set<std::string> seen;
  for (uint64_t seed : {0ull, 1ull, 0xFFFFFFFFFFFFFFFFull})
    for (uint64_t i = 0; i < 200; ++i) {
      const std::string id = make_tool_call_id(seed, i);
      EXPECT_TRUE(is_valid_tool_call_id(id)) << id;
      EXPECT_EQ(id, make_tool_call_id(seed, i));
      seen.insert(id);
    }
  EXPECT_EQ(seen.size(), 600u);
  ToolCallParserOptions opt;
  opt.id_seed = 7;
  ToolCallParser p(ToolCallFormat::mistral_v13(), opt);
  auto r = p.feed("[TOOL_CALLS]a[ARGS]{}[TOOL_CALLS]b[ARGS]{");
  r.append(p.finish());
  r.append(p.feed("[TOOL_CALLS]c[ARGS]{}"));  // next message: the sequence continues
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].id, make_tool_call_id(7, 0));
  EXPECT_EQ(r.calls[1].id, make_tool_call_id(7, 1));
  EXPECT_FALSE(is_valid_tool_call_id("call_1234"));
  EXPECT_FALSE(is_valid_tool_call_id("abc12345"));
}

TEST(ToolCallIds, NamesFollowTheMistralValidator) {
  EXPECT_TRUE(is_valid_tool_name("get_weather-2"));
  EXPECT_TRUE(is_valid_tool_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_tool_name(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_tool_name(""));
  EXPECT_FALSE(is_valid_tool_name("a.b"));
}

TEST(ToolCallFormats, DetectedFromTemplates) {
  const auto name_of = [](const std::string& t) {
    const auto f = ToolCallFormat::detect(template_text(t));
    return f ? f->name : std::string("none");
  };
  EXPECT_EQ(name_of("mistral-common-v13.jinja"), "mistral-v13");
  EXPECT_EQ(name_of("mistral-common-v13_image.jinja"), "mistral-v13");
  EXPECT_EQ(name_of("Mistral-Small-3.2-24B-Instruct-2506.jinja"), "mistral-v11");
  EXPECT_EQ(name_of("Qwen-Qwen2.5-7B-Instruct.jinja"), "hermes");
  EXPECT_EQ(name_of("google-gemma-2-2b-it.jinja"), "none");
  ToolCallFormat bad = ToolCallFormat::mistral_v13();
  bad.args_start = "[TOOL";
  EXPECT_THROW(ToolCallParser{bad}, Error);
}

TEST(ToolCallFormats, OpenAiShape) {
  const auto r = parse_tool_calls("[TOOL_CALLS]f[ARGS]{\"a\":1}");
  ASSERT_EQ(r.calls.size(), 1u);
  const json j = r.calls[0].to_openai();
  EXPECT_EQ(j["type"], "function");
  EXPECT_EQ(j["function"]["name"], "f");
  EXPECT_EQ(j["function"]["arguments"], "{\"a\":1}");  // the model's text, as OpenAI sends it
  EXPECT_EQ(j["id"], r.calls[0].id);
}

}  // namespace
}  // namespace pocket
