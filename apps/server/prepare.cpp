// From a validated request to a GenRequest: chat template, media, forced tool calls,
// tokenization and sampling parameters.
#include <algorithm>

#include "apps/server/state.h"
#include "chat/chat.h"
#include "chat/template_error.h"
#include "runtime/conversation.h"
#include "runtime/prompt.h"

namespace pocket::server {

namespace {

[[noreturn]] void bad(const std::string& msg, const std::string& code = "invalid_value", const std::string& param = "") {
  throw ApiError(400, msg, "invalid_request_error", code, param);
}

// A client's seed as the sampler takes it: never the value that means "random" (SamplerParams::seed).
uint64_t client_seed(uint64_t s) { return s == 0xFFFFFFFFull ? 0xFFFFFFFEull : s; }

GenerationParams generation_for(const OpenAiGenerationParams& g, int32_t n_vocab) {
  // OpenAI semantics: temperature, nucleus, frequency / presence penalties and logit bias;
  // top-k, min-p and the repetition penalty only when the request names them (extensions).
  GenerationParams p;
  SamplerParams& sp = p.sampling;
  sp.temperature = static_cast<float>(g.temperature);
  sp.top_k = static_cast<int>(g.top_k);
  sp.min_p = static_cast<float>(g.min_p);
  sp.top_p = static_cast<float>(g.top_p);
  sp.repeat_penalty = static_cast<float>(g.repetition_penalty);
  sp.frequency_penalty = static_cast<float>(g.frequency_penalty);
  sp.presence_penalty = static_cast<float>(g.presence_penalty);
  for (const auto& [id, bias] : g.logit_bias)
    if (id >= n_vocab) bad(fmt::format("logit_bias names token {}, and the vocabulary has {}", id, n_vocab), "invalid_value", "logit_bias");
  sp.logit_bias = g.logit_bias;
  p.top_logprobs = g.logprobs;
  sp.seed = g.seed ? client_seed(*g.seed) : 0xFFFFFFFFull;
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
  gen->params = generation_for(g, static_cast<int32_t>(st.engine->hparams().n_vocab));
  if (!prompt.embd.empty()) {
    auto owner = std::make_shared<Prompt>(std::move(prompt));
    gen->embd = owner->embd;
    gen->embd_owner = owner;
  }
  return gen;
}

// The request's n choices: the same prompt and parameters, each its own draw. A client's seed s
// gives choice i the seed s + i, so every choice can be reproduced alone with n = 1; the
// scheduler copies the prompt's KV between them instead of prefilling it n times.
std::vector<std::shared_ptr<GenRequest>> choices(std::shared_ptr<GenRequest> first, const OpenAiGenerationParams& g) {
  std::vector<std::shared_ptr<GenRequest>> out{first};
  for (int i = 1; i < g.n; ++i) {
    auto c = std::make_shared<GenRequest>();
    c->prompt = first->prompt;
    c->embd = first->embd;
    c->embd_owner = first->embd_owner;
    c->params = first->params;
    if (g.seed) c->params.sampling.seed = client_seed(*g.seed + static_cast<uint64_t>(i));
    out.push_back(std::move(c));
  }
  return out;
}

// The positions a chat request needs at the least, known before any pixel is decoded: its text
// parts' tokens plus each image's planned placeholder tokens (the family's size plan for the
// size its header declares, the smaller of the two orientations an EXIF tag may choose). A
// request over the context is refused here, not after decoding and encoding its images.
// Returns the pixels the images' headers declare (for the pixel budget).
uint64_t check_planned_context(ServerState& st, const OpenAiChatRequest& req,
                                            const std::vector<std::string>& bytes) {
  int64_t text = 0;
  const Tokenizer& tok = st.engine->tokenizer();
  for (const ChatMessage& m : req.chat.messages) {
    if (m.text) text += static_cast<int64_t>(tok.encode(*m.text, false, false).size());
    for (const ChatContentPart& p : m.parts)
      if (p.type == "text") text += static_cast<int64_t>(tok.encode(p.text, false, false).size());
  }
  int64_t images = 0;
  uint64_t pixels = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (req.media[i].video) continue;
    const auto size = image_header_size({reinterpret_cast<const uint8_t*>(bytes[i].data()), bytes[i].size()});
    if (!size || (*size)[0] > (1u << 30) || (*size)[1] > (1u << 30)) continue;  // decoding reports it
    const int w = static_cast<int>((*size)[0]), h = static_cast<int>((*size)[1]);
    const uint64_t n = (*size)[0] * (*size)[1];
    pixels += n;
    if (n > st.media.max_pixels) continue;  // decoding refuses it (413)
    try {
      ImageDetail d;
      d.low = req.media[i].low_detail;
      images += std::min(st.vision->planned_image_tokens(w, h, d), st.vision->planned_image_tokens(h, w, d));
    } catch (const Error&) {
      // a size the processor cannot plan: decoding and preprocessing report it
    }
  }
  if (text + images >= st.sched->n_ctx())
    bad(fmt::format("the prompt needs at least {} tokens ({} of text, {} for {} image(s)); this server's context is {} "
                    "tokens",
                    text + images, text, images, bytes.size(), st.sched->n_ctx()),
        "context_length_exceeded", "messages");
  return pixels;
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

  // Media before any model work, cheap checks before expensive ones: bytes, then the sizes the
  // image headers declare against the context, then decoding under the server's pixel budget.
  if (st.engine->chat_template().empty()) bad("this model has no chat template; use /v1/completions", "unsupported_value");
  std::vector<std::string> bytes;
  for (const MediaPart& m : req.media) bytes.push_back(fetch_media_bytes(m.url, st.media));
  PixelBudget::Lease lease(st.pixel_budget, check_planned_context(st, req, bytes));
  PromptMedia media;
  for (size_t i = 0; i < req.media.size(); ++i) {
    if (req.media[i].video) media.videos.push_back(decode_request_video(*st.vision, bytes[i], st.media));
    else {
      media.images.push_back(decode_request_image(*st.vision, bytes[i], st.media));
      media.image_detail.push_back({.low = req.media[i].low_detail});
    }
    std::string().swap(bytes[i]);
  }

  // Tool calls (runtime/conversation.h ToolCallPlan): a forced call's opening ends the prompt;
  // arguments follow the tool's schema; under tool_choice auto, strict functions (and
  // parallel_tool_calls false, whose first call ends the reply) hold every call the model opens.
  ToolCallPlan plan;
  if (p.parse_tools) {
    try {
      plan = plan_tool_calls(p.format, req.chat.tools,
                             forced ? std::optional<std::string>(req.tool_choice == ToolChoice::kNamed ? req.tool_name : "")
                                    : std::nullopt,
                             !req.parallel_tool_calls, st.engine->tokenizer());
    } catch (const Error& e) {
      bad(e.what(), "unsupported_value", "tools");
    }
    if (!plan.trigger.empty() && (req.json_object || req.grammar))
      bad("response_format cannot be combined with strict functions or parallel_tool_calls false under tool_choice auto",
          "unsupported_value", "response_format");
    p.forced_prefix = plan.prefix;
  }

  // The forced prefix is Pocket's own structure (its control tokens are parsed).
  PromptRequest pr;
  pr.chat = std::move(req.chat);
  pr.suffix = p.forced_prefix;
  std::shared_ptr<GenRequest> gen = make_gen(st, build(st, pr, media), req.gen);
  gen->params.json_object = req.json_object;
  gen->params.grammar = req.grammar;
  // The parser sees the call markers; no other control token reaches the content ([/INST] and
  // the like from a model that strays are not text).
  plan.apply(gen->params);
  // Reasoning models: thinking is kept apart from the answer, within the asked budget.
  if (st.reasoning) {
    gen->params.think_open = st.reasoning->open;
    gen->params.think_close = st.reasoning->close;
    if (req.gen.max_reasoning_tokens) gen->params.max_reasoning_tokens = *req.gen.max_reasoning_tokens;
    p.reasoning = st.reasoning;
    p.starts_thinking = reply_starts_thinking(gen->params, gen->prompt, st.engine->tokenizer());
  } else if (req.gen.max_reasoning_tokens) {
    bad("this model does not reason (its chat template writes no thinking block)", "unsupported_value", "reasoning_effort");
  }
  try {
    check_constraint_budget(gen->params, st.engine->tokenizer());
  } catch (const Error& e) {
    bad(e.what(), "invalid_value", "max_tokens");
  }
  p.gens = choices(std::move(gen), req.gen);
  return p;
}

Prepared prepare_completion(ServerState& st, OpenAiCompletionRequest& req) {
  Prepared p;
  p.chat = false;
  p.params = req.gen;
  PromptRequest pr;
  pr.raw = true;
  pr.raw_text = req.prompt;
  p.gens = choices(make_gen(st, build(st, pr, {}), req.gen), req.gen);
  return p;
}

}  // namespace pocket::server
