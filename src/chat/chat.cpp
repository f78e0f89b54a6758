// Public chat-template API: parsing, rendering with limits and clock, and the ChatRequest
// -> template context conversion (shaped like transformers' apply_chat_template input).
#include "chat/chat.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

#include "chat/jinja_interp.h"
#include "chat/jinja_json.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_text.h"

namespace pocket {

ChatClock ChatClock::parse(std::string_view iso) {
  ChatClock c;
  const std::string s(iso);
  int n = 0;
  char sep = 0;
  int got = std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &c.year, &c.month, &c.day, &n);
  if (got != 3) fail("invalid time '{}': expected YYYY-MM-DD[THH:MM[:SS]]", s);
  size_t pos = static_cast<size_t>(n);
  if (pos < s.size()) {
    sep = s[pos];
    if (sep != 'T' && sep != ' ') fail("invalid time '{}': expected 'T' between date and time", s);
    int m = 0;
    got = std::sscanf(s.c_str() + pos + 1, "%2d:%2d%n", &c.hour, &c.minute, &m);
    if (got != 2) fail("invalid time '{}': expected HH:MM", s);
    pos += 1 + static_cast<size_t>(m);
    if (pos < s.size() && s[pos] == ':') {
      int k = 0;
      if (std::sscanf(s.c_str() + pos + 1, "%2d%n", &c.second, &k) != 1) fail("invalid time '{}': bad seconds", s);
      pos += 1 + static_cast<size_t>(k);
    }
    if (pos != s.size()) fail("invalid time '{}': trailing characters", s);
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (c.year < 1 || c.month < 1 || c.month > 12 || c.day < 1 || c.day > kDays[c.month - 1] || c.hour > 23 ||
      c.minute > 59 || c.second > 59 || c.hour < 0 || c.minute < 0 || c.second < 0) {
    fail("invalid time '{}': field out of range", s);
  }
  return c;
}

ChatClock ChatClock::local_now() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  std::tm tm{};
  const time_t t = tv.tv_sec;
  localtime_r(&t, &tm);
  ChatClock c;
  c.year = tm.tm_year + 1900;
  c.month = tm.tm_mon + 1;
  c.day = tm.tm_mday;
  c.hour = tm.tm_hour;
  c.minute = tm.tm_min;
  c.second = tm.tm_sec;
  c.microsecond = static_cast<int>(tv.tv_usec);
  return c;
}

ChatTemplate::ChatTemplate(std::string_view source) {
  if (!jinja::is_valid_utf8(source)) throw TemplateError("template is not valid UTF-8", 0);
  ast_ = std::make_unique<jinja::TemplateAst>(jinja::parse_template(source));
  jinja::check_filter_and_test_names(*ast_);
  jinja::analyze_scopes(*ast_);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context, const ChatRenderOptions& options) const {
  if (!context.is_object()) throw TemplateError("template context must be a JSON object", 0);
  jinja::Limits limits;
  limits.max_string_bytes = options.max_output_bytes;
  limits.max_work = options.max_work;
  limits.max_depth = options.max_depth;
  const ChatClock c = options.now ? *options.now : ChatClock::local_now();
  jinja::Clock clock{c.year, c.month, c.day, c.hour, c.minute, c.second, c.microsecond};
  std::vector<std::pair<std::string, jinja::Value>> vars;
  for (auto it = context.begin(); it != context.end(); ++it) {
    vars.emplace_back(it.key(), jinja::from_json(it.value()));
  }
  jinja::Interp interp(*ast_, limits, clock);
  return interp.render(vars);
}

std::string render_chat_template(std::string_view template_text, const nlohmann::ordered_json& context,
                                 const ChatRenderOptions& options) {
  return ChatTemplate(template_text).render(context, options);
}

ChatMessage ChatMessage::from_text(std::string role, std::string text) {
  ChatMessage m;
  m.role = std::move(role);
  m.text = std::move(text);
  return m;
}

nlohmann::ordered_json ChatRequest::to_context() const {
  using json = nlohmann::ordered_json;
  json msgs = json::array();
  for (const ChatMessage& m : messages) {
    json j = json::object();
    j["role"] = m.role;
    if (m.role == "tool") {
      if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
      if (!m.name.empty()) j["name"] = m.name;
    }
    if (m.text) {
      j["content"] = *m.text;
    } else if (!m.parts.empty()) {
      json parts = json::array();
      for (const ChatContentPart& p : m.parts) {
        json part = json::object();
        part["type"] = p.type;
        if (p.type == "text") part["text"] = p.text;
        if (p.fields.is_object()) {
          for (auto it = p.fields.begin(); it != p.fields.end(); ++it) part[it.key()] = it.value();
        }
        parts.push_back(std::move(part));
      }
      j["content"] = std::move(parts);
    } else {
      j["content"] = nullptr;
    }
    if (m.role != "tool" && !m.name.empty()) j["name"] = m.name;
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const ChatToolCall& tc : m.tool_calls) {
        calls.push_back(json{{"id", tc.id}, {"type", "function"}, {"function", json{{"name", tc.name}, {"arguments", tc.arguments}}}});
      }
      j["tool_calls"] = std::move(calls);
    }
    if (m.extra.is_object()) {
      for (auto it = m.extra.begin(); it != m.extra.end(); ++it) j[it.key()] = it.value();
    }
    msgs.push_back(std::move(j));
  }
  json ctx = json::object();
  ctx["messages"] = std::move(msgs);
  ctx["add_generation_prompt"] = add_generation_prompt;
  ctx["bos_token"] = bos_token;
  ctx["eos_token"] = eos_token;
  if (tools.is_array() && !tools.empty()) ctx["tools"] = tools;
  if (extra_context.is_object()) {
    for (auto it = extra_context.begin(); it != extra_context.end(); ++it) ctx[it.key()] = it.value();
  }
  return ctx;
}

ChatRequest ChatRequest::from_openai(const nlohmann::ordered_json& body) {
  ChatRequest req;
  if (!body.is_object()) fail("chat request must be a JSON object");
  const auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) fail("chat request needs a 'messages' array");
  for (const auto& jm : *msgs) {
    if (!jm.is_object()) fail("each message must be a JSON object");
    ChatMessage m;
    const auto role = jm.find("role");
    if (role == jm.end() || !role->is_string()) fail("each message needs a string 'role'");
    m.role = role->get<std::string>();
    const auto content = jm.find("content");
    if (content != jm.end() && content->is_string()) {
      m.text = content->get<std::string>();
    } else if (content != jm.end() && content->is_array()) {
      for (const auto& jp : *content) {
        if (!jp.is_object() || !jp.contains("type") || !jp["type"].is_string()) fail("content parts need a string 'type'");
        ChatContentPart p;
        p.type = jp["type"].get<std::string>();
        if (p.type == "image_url" || p.type == "input_image") p.type = "image";
        if (p.type == "video_url") p.type = "video";
        if (p.type == "text") {
          if (!jp.contains("text") || !jp["text"].is_string()) fail("text parts need a string 'text'");
          p.text = jp["text"].get<std::string>();
        }
        p.fields = nlohmann::ordered_json::object();
        for (auto it = jp.begin(); it != jp.end(); ++it) {
          if (it.key() != "type" && it.key() != "text") p.fields[it.key()] = it.value();
        }
        m.parts.push_back(std::move(p));
      }
    } else if (content != jm.end() && !content->is_null()) {
      fail("message content must be a string, a list of parts or null");
    }
    if (const auto calls = jm.find("tool_calls"); calls != jm.end() && calls->is_array()) {
      for (const auto& jc : *calls) {
        ChatToolCall tc;
        if (jc.contains("id") && jc["id"].is_string()) tc.id = jc["id"].get<std::string>();
        const auto fn = jc.find("function");
        if (fn == jc.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
          fail("tool calls need a 'function' with a string 'name'");
        }
        tc.name = (*fn)["name"].get<std::string>();
        if (fn->contains("arguments")) {
          const auto& args = (*fn)["arguments"];
          tc.arguments = args;
          if (args.is_string()) {
            auto parsed = nlohmann::ordered_json::parse(args.get<std::string>(), nullptr, false);
            if (!parsed.is_discarded() && parsed.is_object()) tc.arguments = std::move(parsed);
          }
        }
        m.tool_calls.push_back(std::move(tc));
      }
    }
    if (const auto id = jm.find("tool_call_id"); id != jm.end() && id->is_string()) m.tool_call_id = id->get<std::string>();
    if (const auto name = jm.find("name"); name != jm.end() && name->is_string()) m.name = name->get<std::string>();
    m.extra = nlohmann::ordered_json::object();
    for (auto it = jm.begin(); it != jm.end(); ++it) {
      const std::string& k = it.key();
      if (k != "role" && k != "content" && k != "tool_calls" && k != "tool_call_id" && k != "name") m.extra[k] = it.value();
    }
    req.messages.push_back(std::move(m));
  }
  if (const auto tools = body.find("tools"); tools != body.end() && tools->is_array()) req.tools = *tools;
  if (const auto agp = body.find("add_generation_prompt"); agp != body.end() && agp->is_boolean()) {
    req.add_generation_prompt = agp->get<bool>();
  }
  return req;
}

}  // namespace pocket
