// Chat template rendering: the public API of the chat module's Jinja engine.
//
// Templates render byte-for-byte as Hugging Face transformers renders them with Python
// jinja2 (sandboxed, trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson,
// raise_exception and strftime_now). Any failure — syntax error, Python type error inside
// the template, exhausted resource limit — is a pocket::TemplateError; a template's own
// raise_exception(msg) is a pocket::TemplateRaised whose what() is msg verbatim.
//
//   pocket::ChatTemplate tmpl(source);            // parse once
//   std::string prompt = tmpl.render(request.to_context());
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/template_error.h"

namespace pocket {

namespace jinja {
struct TemplateAst;
}

// Wall-clock time seen by strftime_now() (naive local time, like datetime.now()).
struct ChatClock {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, microsecond = 0;

  // "2026-11-24T12:00:00" (also "2026-11-24 12:00", "2026-11-24"); throws pocket::Error.
  static ChatClock parse(std::string_view iso);
  static ChatClock local_now();
};

struct ChatRenderOptions {
  std::optional<ChatClock> now;                  // unset: the system's local time
  size_t max_output_bytes = size_t{64} << 20;    // cap on the output and on any string
  uint64_t max_work = 200'000'000;               // ~ evaluation steps (+ bytes/256 produced)
  int max_depth = 256;                           // nested evaluation frames (macro recursion)
};

// A parsed template; render() may be called any number of times (not concurrently with
// itself being destroyed; rendering is otherwise thread-safe).
class ChatTemplate {
 public:
  explicit ChatTemplate(std::string_view source);  // throws TemplateError on syntax errors
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // `context` must be a JSON object; its keys become template variables.
  std::string render(const nlohmann::ordered_json& context, const ChatRenderOptions& options = {}) const;

 private:
  std::unique_ptr<jinja::TemplateAst> ast_;
};

// One-shot parse + render.
std::string render_chat_template(std::string_view template_text, const nlohmann::ordered_json& context,
                                 const ChatRenderOptions& options = {});

// ---- building the context a chat template expects ---------------------------------------

struct ChatContentPart {
  std::string type;               // "text", "image", "video", ...
  std::string text;               // for type == "text"
  nlohmann::ordered_json fields;  // extra keys for the part (e.g. {"url": ...}), may be null
};

struct ChatToolCall {
  std::string id;
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // object (HF style) or string
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  // Content is either a plain string (`text`), a list of typed parts (`parts`, used when
  // `text` is unset and parts is non-empty), or null (neither).
  std::optional<std::string> text;
  std::vector<ChatContentPart> parts;
  std::vector<ChatToolCall> tool_calls;  // assistant
  std::string tool_call_id;              // tool result
  std::string name;                      // tool result: the tool's name
  nlohmann::ordered_json extra;          // other keys copied into the message (object or null)

  static ChatMessage from_text(std::string role, std::string text);
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  nlohmann::ordered_json tools;  // JSON array of tool schemas; null/empty: no `tools` variable
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  nlohmann::ordered_json extra_context;  // e.g. {"enable_thinking": false, "date_string": ...}

  // The variables passed to the template: messages, add_generation_prompt, bos_token,
  // eos_token, then `tools` when present, then extra_context's keys.
  nlohmann::ordered_json to_context() const;

  // Reads OpenAI-style chat messages (content as string, or parts with type text /
  // image_url / image / video; tool_calls whose arguments may be a JSON string, which is
  // parsed into an object as HF templates expect). Throws pocket::Error on bad shapes.
  static ChatRequest from_openai(const nlohmann::ordered_json& body);
};

}  // namespace pocket
