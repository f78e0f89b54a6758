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

void Conversation::add_image(Image image, const ImageDetail& detail) {
  if (vision_) vision_->check_detail(detail);
  ChatMessage& m = last_user();
  // After the message's videos and images, before its text.
  const auto text = std::find_if(m.parts.begin(), m.parts.end(), [](const ChatContentPart& p) { return p.type == "text"; });
  m.parts.insert(text, {"image", "", nullptr});
  media_.images.push_back(std::move(image));
  media_.image_detail.resize(media_.images.size() - 1);
  media_.image_detail.push_back(detail);
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
  EncodeProgress progress = std::move(media_.progress);
  media_ = {};
  media_.progress = std::move(progress);
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

ToolCallPlan plan_tool_calls(const ToolCallFormat& f, const nlohmann::ordered_json& tools,
                             const std::optional<std::string>& forced_name, bool one_call, const Tokenizer& tok) {
  ToolCallPlan plan;
  plan.markers = f.markers();
  if (forced_name) {
    ForcedToolCall call = force_tool_call(f, tools, *forced_name);
    plan.forced = true;
    plan.prefix = std::move(call.prefix);
    plan.choices = std::move(call.choices);
    plan.grammars = std::move(call.grammars);
    plan.suffix = std::move(call.suffix);
  } else if (auto t = strict_tool_calls(f, tools, tok, one_call)) {
    plan.trigger = std::move(t->trigger);
    plan.choices = std::move(t->choices);
    plan.grammars = std::move(t->grammars);
    plan.suffix = std::move(t->suffix);
    plan.max_calls = one_call ? 1 : 0;
  }
  return plan;
}

void ToolCallPlan::apply(GenerationParams& p) const {
  p.keep_control.insert(p.keep_control.end(), markers.begin(), markers.end());
  if (!forced && trigger.empty()) return;
  p.choices = choices;
  p.json_suffix = suffix;
  if (forced) {
    p.json_object = true;
    if (choices.empty()) p.grammar = grammars.at(0);  // the named tool's arguments schema (or any object)
    else p.choice_grammars = grammars;
  } else {
    p.tool_trigger = trigger;
    p.choice_grammars = grammars;
    p.max_tool_calls = max_calls;
  }
}

Conversation::Reply Conversation::reply(GenerateOptions options, const std::string& tool_choice) {
  PromptRequest req;
  req.template_source = template_;
  if (!system_.empty()) req.chat.messages.push_back(ChatMessage::from_text("system", system_));
  req.chat.messages.insert(req.chat.messages.end(), messages_.begin(), messages_.end());
  req.chat.tools = tools_;
  const bool parse = tool_format_.has_value() && tool_choice != "none";
  std::string forced_prefix;
  const bool forced = tool_choice != "auto" && tool_choice != "none";
  if (forced) {
    POCKET_CHECK(!tools_.is_null(), "tool_choice '{}' needs tools", tool_choice);
    POCKET_CHECK(tool_format_.has_value(), "this model's chat template has no tool-call format (tool_choice '{}')",
                 tool_choice);
  }
  if (parse) {
    const ToolCallPlan plan = plan_tool_calls(
        *tool_format_, tools_, forced ? std::optional<std::string>(tool_choice == "required" ? "" : tool_choice) : std::nullopt,
        false, engine_.tokenizer());
    const bool answer_constrained = options.json_object || options.grammar;
    POCKET_CHECK(!plan.forced || !answer_constrained, "a forced tool call cannot also be a JSON object or JSON Schema answer");
    POCKET_CHECK(plan.trigger.empty() || !answer_constrained,
                 "a JSON object or JSON Schema answer cannot be combined with strict functions under tool_choice auto");
    req.suffix = forced_prefix = plan.prefix;
    plan.apply(options);  // the parser must see the call markers; no other control token reaches the content
  }
  const Prompt prompt = build_prompt(engine_, vision_, req, media_, session_.pool());
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
