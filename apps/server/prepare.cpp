// From a validated request to a GenRequest: chat template, media, forced tool calls,
// tokenization and sampling parameters.
#include <algorithm>

#include "apps/server/state.h"
#include "chat/chat.h"
#include "chat/prompt_tokens.h"
#include "runtime/multimodal.h"

namespace pocket::server {

namespace {

[[noreturn]] void bad(const std::string& msg, const std::string& code = "invalid_value", const std::string& param = "") {
  throw ApiError(400, msg, "invalid_request_error", code, param);
}

SamplerParams sampling_for(const OpenAiGenerationParams& g) {
  // OpenAI semantics: temperature and nucleus only; no top-k, min-p or repetition penalty.
  SamplerParams sp;
  sp.temperature = static_cast<float>(g.temperature);
  sp.top_k = 0;
  sp.min_p = 0;
  sp.top_p = static_cast<float>(g.top_p);
  sp.repeat_penalty = 1.0f;
  sp.seed = g.seed ? *g.seed : 0xFFFFFFFFull;
  if (sp.seed == 0xFFFFFFFFull && g.seed) sp.seed = 0xFFFFFFFEull;  // a client's seed is never "random"
  return sp;
}

std::shared_ptr<GenRequest> make_gen(ServerState& st, std::vector<int32_t> tokens, const OpenAiGenerationParams& g) {
  POCKET_CHECK(st.sched, "model not loaded");
  if (tokens.empty()) bad("the prompt is empty", "invalid_value", "messages");
  if (static_cast<int64_t>(tokens.size()) >= st.sched->n_ctx())
    bad(fmt::format("the prompt is {} tokens; this server's context is {} tokens", tokens.size(), st.sched->n_ctx()),
        "context_length_exceeded", "messages");
  auto gen = std::make_shared<GenRequest>();
  gen->prompt = std::move(tokens);
  gen->max_tokens = g.max_tokens;
  gen->sampling = sampling_for(g);
  gen->stop = g.stop;
  return gen;
}

// Multimodal templates (SmolVLM2) iterate typed parts and drop plain-string content, while
// text-only templates expect strings: normalise to what the loaded model's template reads.
void normalise_content(ChatRequest& chat, bool multimodal) {
  for (ChatMessage& m : chat.messages) {
    if (multimodal && m.text && m.role == "user") {
      m.parts = {{"text", *m.text, nullptr}};
      m.text.reset();
    } else if (!multimodal && !m.text && !m.parts.empty()) {
      std::string joined;
      for (const ChatContentPart& p : m.parts) {
        if (p.type != "text") bad("this model takes text only (start the server with --mmproj for images)", "unsupported_value", "messages");
        joined += p.text;
      }
      m.text = joined;
      m.parts.clear();
    }
  }
}

}  // namespace

Prepared prepare_chat(ServerState& st, OpenAiChatRequest& req) {
  const Engine& e = *st.engine;
  const Tokenizer& tok = e.tokenizer();
  Prepared p;
  p.chat = true;
  p.params = req.gen;
  const bool have_tools = req.chat.tools.is_array() && !req.chat.tools.empty();
  const bool forced = req.tool_choice == ToolChoice::kRequired || req.tool_choice == ToolChoice::kNamed;
  if (have_tools && req.tool_choice != ToolChoice::kNone) {
    if (!st.tool_format) {
      if (forced) bad("this model's chat template has no tool-call format", "unsupported_value", "tool_choice");
    } else {
      p.parse_tools = true;
      p.format = *st.tool_format;
    }
  }
  if (!req.media.empty() && !st.vision)
    bad("this model takes text only (start the server with --mmproj for images and video)", "unsupported_value", "messages");

  ChatRequest chat = req.chat;
  normalise_content(chat, st.vision != nullptr);
  if (tok.bos_id() >= 0) chat.bos_token = tok.token_text(tok.bos_id());
  if (tok.eos_id() >= 0) chat.eos_token = tok.token_text(tok.eos_id());
  chat.add_generation_prompt = true;

  // Media first (network, decoding), so a bad image fails before any model work.
  std::vector<Image> images;
  std::vector<SmolVlmVideo> videos;
  for (const MediaPart& m : req.media) {
    const std::string bytes = fetch_media_bytes(m.url, st.media);
    if (m.video) videos.push_back(decode_request_video(*st.vision, bytes, st.media));
    else images.push_back(decode_request_image(*st.vision, bytes, st.media));
  }

  std::string source = videos.empty() ? st.chat_template : std::string(kSmolVlmVideoChatTemplate);
  if (source.empty()) bad("this model has no chat template; use /v1/completions", "unsupported_value");
  // Caller text (messages, tool calls and results, tool schemas) is located in the rendering
  // so Tekken models tokenize it literally, as mistral-common does (chat/prompt_tokens.h).
  LiteralPrompt rendered;
  try {
    rendered = render_with_literal_spans(ChatTemplate(source), chat);
  } catch (const TemplateRaised& ex) {
    bad(fmt::format("the model's chat template rejected the conversation: {}", ex.what()), "invalid_value", "messages");
  } catch (const Error& ex) {
    bad(fmt::format("cannot render the chat template: {}", ex.what()), "invalid_value", "messages");
  }

  // Forced calls: the prompt already holds the call's opening (name included when there is
  // one choice), and the arguments are constrained to a JSON object, as llama.cpp's server
  // forces them with a grammar.
  std::string suffix;
  std::vector<std::string> choices;
  bool constrain = req.json_object;
  if (p.parse_tools && forced) {
    std::string name = req.tool_name;
    if (req.tool_choice == ToolChoice::kRequired && req.chat.tools.size() == 1)
      name = req.chat.tools[0]["function"]["name"].get<std::string>();
    const ToolCallFormat& f = p.format;
    std::vector<std::string> names;
    if (name.empty())
      for (const auto& t : req.chat.tools) names.push_back(t["function"]["name"].get<std::string>());
    if (!names.empty()) {
      // Several tools: the model chooses among their names (the choice constraint), then writes
      // the arguments object.
      const bool json_syntax = f.syntax == ToolCallSyntax::kJsonObject;
      p.forced_prefix = json_syntax ? f.call_start + "{\"name\": \"" : f.call_start;
      for (const std::string& n : names) choices.push_back(json_syntax ? n + "\", \"arguments\": " : n + f.args_start);
      suffix = json_syntax ? "}" + f.call_end : f.call_end;
      constrain = true;
    } else if (f.syntax == ToolCallSyntax::kNameThenArgs) {
      p.forced_prefix = f.call_start + name + f.args_start;
      suffix = f.call_end;
      constrain = true;
    } else {
      p.forced_prefix = f.call_start + "{\"name\": " + nlohmann::json(name).dump() + ", \"arguments\": ";
      suffix = "}" + f.call_end;
      constrain = true;
    }
  }

  // The forced prefix is Pocket's own structure (its control tokens are parsed).
  const std::string text = rendered.text + p.forced_prefix;
  std::shared_ptr<GenRequest> gen;
  if (!images.empty() || !videos.empty()) {
    auto mm = std::make_shared<MultimodalPrompt>();
    try {
      std::lock_guard<std::mutex> lk(st.vision_mu);
      *mm = build_multimodal_prompt(e, *st.vision, text, rendered.literal, images, *st.vision_pool, videos);
    } catch (const Error& ex) {
      bad(fmt::format("cannot build the multimodal prompt: {}", ex.what()), "invalid_value", "messages");
    }
    gen = make_gen(st, mm->tokens, req.gen);
    gen->embd = mm->embd;
    gen->embd_owner = mm;
  } else {
    gen = make_gen(st, tokenize_chat_prompt(tok, text, rendered.literal), req.gen);
  }
  gen->json_object = constrain;
  gen->keep_control_text = p.parse_tools;
  gen->choices = std::move(choices);
  gen->suffix_text = suffix;
  p.gen = std::move(gen);
  return p;
}

Prepared prepare_completion(ServerState& st, OpenAiCompletionRequest& req) {
  const Tokenizer& tok = st.engine->tokenizer();
  Prepared p;
  p.chat = false;
  p.params = req.gen;
  p.gen = make_gen(st, tok.encode(req.prompt, tok.add_bos_default(), true), req.gen);
  return p;
}

}  // namespace pocket::server
