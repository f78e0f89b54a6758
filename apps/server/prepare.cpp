// From a validated request to a GenRequest: chat template, media, forced tool calls,
// tokenization and sampling parameters.
#include <algorithm>

#include "apps/server/state.h"
#include "chat/chat.h"
#include "chat/template_error.h"
#include "runtime/prompt.h"

namespace pocket::server {

namespace {

[[noreturn]] void bad(const std::string& msg, const std::string& code = "invalid_value", const std::string& param = "") {
  throw ApiError(400, msg, "invalid_request_error", code, param);
}

GenerationParams generation_for(const OpenAiGenerationParams& g) {
  // OpenAI semantics: temperature and nucleus only; no top-k, min-p or repetition penalty.
  GenerationParams p;
  SamplerParams& sp = p.sampling;
  sp.temperature = static_cast<float>(g.temperature);
  sp.top_k = 0;
  sp.min_p = 0;
  sp.top_p = static_cast<float>(g.top_p);
  sp.repeat_penalty = 1.0f;
  sp.seed = g.seed ? *g.seed : 0xFFFFFFFFull;
  if (sp.seed == 0xFFFFFFFFull && g.seed) sp.seed = 0xFFFFFFFEull;  // a client's seed is never "random"
  p.max_tokens = g.max_tokens;
  p.stop = g.stop;
  return p;
}

// The prompt builder's errors are the client's: its conversation or media.
Prompt build(ServerState& st, const PromptRequest& req, const PromptMedia& media) {
  try {
    if (media.empty()) return build_prompt(*st.engine, st.vision.get(), req, media, st.engine->pool());
    std::lock_guard<std::mutex> lk(st.vision_mu);
    return build_prompt(*st.engine, st.vision.get(), req, media, *st.vision_pool);
  } catch (const TemplateRaised& ex) {
    bad(fmt::format("the model's chat template rejected the conversation: {}", ex.what()), "invalid_value", "messages");
  } catch (const Error& ex) {
    bad(fmt::format("cannot build the prompt: {}", ex.what()), "invalid_value", "messages");
  }
}

std::shared_ptr<GenRequest> make_gen(ServerState& st, Prompt prompt, const OpenAiGenerationParams& g) {
  POCKET_CHECK(st.sched, "model not loaded");
  if (prompt.tokens.empty()) bad("the prompt is empty", "invalid_value", "messages");
  if (static_cast<int64_t>(prompt.tokens.size()) >= st.sched->n_ctx())
    bad(fmt::format("the prompt is {} tokens; this server's context is {} tokens", prompt.tokens.size(),
                    st.sched->n_ctx()),
        "context_length_exceeded", "messages");
  auto gen = std::make_shared<GenRequest>();
  gen->prompt = std::move(prompt.tokens);
  gen->params = generation_for(g);
  if (!prompt.embd.empty()) {
    auto owner = std::make_shared<Prompt>(std::move(prompt));
    gen->embd = owner->embd;
    gen->embd_owner = owner;
  }
  return gen;
}

}  // namespace

Prepared prepare_chat(ServerState& st, OpenAiChatRequest& req) {
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

  // Media first (network, decoding), so a bad image fails before any model work.
  if (st.engine->chat_template().empty()) bad("this model has no chat template; use /v1/completions", "unsupported_value");
  PromptMedia media;
  for (const MediaPart& m : req.media) {
    const std::string bytes = fetch_media_bytes(m.url, st.media);
    if (m.video) media.videos.push_back(decode_request_video(*st.vision, bytes, st.media));
    else media.images.push_back(decode_request_image(*st.vision, bytes, st.media));
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
  PromptRequest pr;
  pr.chat = std::move(req.chat);
  pr.suffix = p.forced_prefix;
  std::shared_ptr<GenRequest> gen = make_gen(st, build(st, pr, media), req.gen);
  gen->params.json_object = constrain;
  // The parser sees the call markers; no other control token reaches the content ([/INST] and
  // the like from a model that strays are not text).
  if (p.parse_tools)
    for (const std::string* m : {&p.format.call_start, &p.format.args_start, &p.format.id_start, &p.format.call_end})
      if (!m->empty()) gen->params.keep_control.push_back(*m);
  gen->params.choices = std::move(choices);
  gen->params.json_suffix = suffix;
  p.gen = std::move(gen);
  return p;
}

Prepared prepare_completion(ServerState& st, OpenAiCompletionRequest& req) {
  Prepared p;
  p.chat = false;
  p.params = req.gen;
  PromptRequest pr;
  pr.raw = true;
  pr.raw_text = req.prompt;
  p.gen = make_gen(st, build(st, pr, {}), req.gen);
  return p;
}

}  // namespace pocket::server
