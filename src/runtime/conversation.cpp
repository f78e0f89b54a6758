// Conversation: history, media placement, rendering and tool-call parsing around the one
// generation loop (see conversation.h).
#include "runtime/conversation.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace pocket {

Conversation::Conversation(Engine& engine, const VisionEncoder* vision, const SessionOptions& opt)
    : engine_(engine), vision_(vision), session_(engine, opt) {}

void Conversation::set_system(std::string text) { system_ = std::move(text); }

void Conversation::set_tools(nlohmann::ordered_json tools) {
  POCKET_CHECK(tools.is_null() || tools.is_array(), "tools must be a JSON array of tool schemas");
  tools_ = tools.empty() ? nlohmann::ordered_json() : std::move(tools);
  tool_format_.reset();
  if (!tools_.is_null())
    tool_format_ = ToolCallFormat::detect(template_.empty() ? engine_.chat_template() : template_);
}

void Conversation::set_template(std::string source) {
  template_ = std::move(source);
  set_tools(std::move(tools_));
}

void Conversation::add_message(const std::string& role, std::string text) {
  POCKET_CHECK(role == "user" || role == "assistant" || role == "system" || role == "tool",
               "unknown message role '{}' (user, assistant, system or tool)", role);
  messages_.push_back(ChatMessage::from_text(role, std::move(text)));
}

void Conversation::add_tool_result(const std::string& call_id, std::string text) {
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it)
    for (const ChatToolCall& call : it->tool_calls)
      if (call.id == call_id) {
        ChatMessage m = ChatMessage::from_text("tool", std::move(text));
        m.tool_call_id = call_id;
        m.name = call.name;
        messages_.push_back(std::move(m));
        return;
      }
  fail("no tool call has the id '{}'", call_id);
}

ChatMessage& Conversation::last_user() {
  POCKET_CHECK(vision_ != nullptr, "images and video need a vision projector (mmproj)");
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it)
    if (it->role == "user") {
      if (it->text) {  // string content becomes typed parts: the media go before the text
        it->parts.push_back({"text", std::move(*it->text), nullptr});
        it->text.reset();
      }
      return *it;
    }
  fail("add a user message before its images or video");
}

void Conversation::add_image(Image image) {
  ChatMessage& m = last_user();
  // After the message's videos and images, before its text.
  const auto text = std::find_if(m.parts.begin(), m.parts.end(), [](const ChatContentPart& p) { return p.type == "text"; });
  m.parts.insert(text, {"image", "", nullptr});
  media_.images.push_back(std::move(image));
}

void Conversation::add_video(SmolVlmVideo video) {
  POCKET_CHECK(vision_ == nullptr || vision_->takes_video(), "this model's vision family takes no video");
  ChatMessage& m = last_user();
  const auto first = std::find_if(m.parts.begin(), m.parts.end(), [](const ChatContentPart& p) { return p.type != "video"; });
  m.parts.insert(first, {"video", "", nullptr});
  media_.videos.push_back(std::move(video));
}

void Conversation::clear() {
  messages_.clear();
  media_ = {};
}

Conversation::Reply Conversation::run(const Prompt& prompt, GenerateOptions& options) {
  session_.reset();
  Reply r;
  r.gen = session_.generate(prompt.tokens, options, prompt.embd_or_null());
  r.n_prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
  r.n_image_tokens = prompt.n_image_tokens;
  r.n_tiles = prompt.n_tiles;
  r.encode_seconds = prompt.encode_seconds;
  r.content = r.gen.text;
  return r;
}

Conversation::Reply Conversation::reply(GenerateOptions options, const std::string& tool_choice) {
  PromptRequest req;
  req.template_source = template_;
  if (!system_.empty()) req.chat.messages.push_back(ChatMessage::from_text("system", system_));
  req.chat.messages.insert(req.chat.messages.end(), messages_.begin(), messages_.end());
  req.chat.tools = tools_;
  const bool parse = tool_format_.has_value() && tool_choice != "none";
  std::string forced_prefix;
  if (tool_choice != "auto" && tool_choice != "none") {
    POCKET_CHECK(!tools_.is_null(), "tool_choice '{}' needs tools", tool_choice);
    POCKET_CHECK(tool_format_.has_value(), "this model's chat template has no tool-call format (tool_choice '{}')",
                 tool_choice);
    ForcedToolCall call = force_tool_call(*tool_format_, tools_, tool_choice == "required" ? "" : tool_choice);
    POCKET_CHECK(!options.json_object && !options.grammar, "a forced tool call cannot also be a JSON object or JSON Schema answer");
    req.suffix = forced_prefix = std::move(call.prefix);
    options.choices = std::move(call.choices);
    options.json_object = true;
    if (options.choices.empty()) options.grammar = call.grammars.at(0);  // the arguments' schema (or any object)
    else options.choice_grammars = std::move(call.grammars);
    options.json_suffix = std::move(call.suffix);
  } else if (parse) {
    if (auto strict = strict_tool_calls(*tool_format_, tools_, engine_.tokenizer())) {
      POCKET_CHECK(!options.json_object && !options.grammar,
                   "a JSON object or JSON Schema answer cannot be combined with strict functions under tool_choice auto");
      options.tool_trigger = std::move(strict->trigger);
      options.choices = std::move(strict->choices);
      options.choice_grammars = std::move(strict->grammars);
    }
  }
  const Prompt prompt = build_prompt(engine_, vision_, req, media_, session_.pool());
  // The parser must see the call markers; no other control token reaches the content.
  if (parse) {
    const std::vector<std::string> markers = tool_format_->markers();
    options.keep_control.insert(options.keep_control.end(), markers.begin(), markers.end());
  }
  Reply r = run(prompt, options);
  if (r.gen.stop_reason == finish_reason_name(FinishReason::Cancelled)) return r;
  ChatMessage turn = ChatMessage::from_text("assistant", r.content);
  if (parse) {
    ToolCallParser parser(*tool_format_, ToolCallParserOptions{.id_seed = options.sampling.seed ^ n_replies_});
    ToolCallParseResult parsed = parser.feed(forced_prefix + r.gen.text);
    parsed.append(parser.finish());
    turn = parsed.to_assistant_message();
    r.content = std::move(parsed.content);
    r.tool_calls = std::move(parsed.calls);
    r.tool_call_errors = std::move(parsed.errors);
  }
  ++n_replies_;
  // Nothing to keep: Mistral's templates refuse an assistant turn without content or calls.
  if (!r.content.empty() || !r.tool_calls.empty()) messages_.push_back(std::move(turn));
  return r;
}

Conversation::Reply Conversation::complete(const std::string& text, GenerateOptions options) {
  PromptRequest req;
  req.raw = true;
  req.raw_text = text;
  return run(build_prompt(engine_, vision_, req, {}, session_.pool()), options);
}

}  // namespace pocket
