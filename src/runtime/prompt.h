// The one prompt builder: chat messages + media -> token ids + embedding rows. `pocket run`,
// the server and compare all build their prompts here, so the template choice, the content
// shape a template reads, the literal-text rule for Tekken models (chat/prompt_tokens.h) and
// the placement of image rows exist once.
//
//   PromptRequest req;  req.chat.messages = {...};          // typed parts place the media
//   Prompt p = build_prompt(engine, vision, req, media, pool);
//   session.generate(p.tokens, options, p.embd_or_null());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/chat.h"
#include "core/thread_pool.h"
#include "runtime/engine.h"
#include "vision/vision_encoder.h"

namespace pocket {

struct Prompt {
  std::vector<int32_t> tokens;
  std::vector<const float*> embd;   // [tokens.size()] image rows (nullptr for text), or empty
  std::vector<float> storage;       // owns the image rows
  std::string text;                 // what was tokenized (placeholders expanded)
  int64_t n_image_tokens = 0;
  int64_t n_tiles = 0;              // tiles (SmolVLM2) or images (Pixtral) encoded
  double encode_seconds = 0;
  const float* const* embd_or_null() const { return embd.empty() ? nullptr : embd.data(); }
};

struct PromptRequest {
  ChatRequest chat;                 // messages (media as typed parts) and tools
  std::string template_source;      // replaces the model's chat template (--template); "" = the model's
  // Pocket's own text after the rendering, its control tokens parsed (a forced tool call's
  // opening, chosen by the server).
  std::string suffix;
  // No template: `raw_text` is tokenized as is, BOS as the vocabulary asks and special tokens
  // parsed (llama.cpp's completion behaviour; `pocket run` without --chat, /v1/completions).
  bool raw = false;
  std::string raw_text;
};

// One user turn: `text`, after one typed part per video, then per image, the order the
// reference processors place them in (`pocket run`, compare).
ChatMessage user_turn(const std::string& text, const PromptMedia& media);

// Renders (the request's template, else the vision family's video template for a prompt with
// video, else the model's), tokenizes and encodes the media. Message content is given to the
// template in the shape it reads: typed parts when a vision model is loaded or the message
// holds media (multimodal templates iterate parts and drop plain strings), strings otherwise
// — and parts after all when a string-content rendering lost a user's text. `vision` may be
// null for text-only models (media then is an error). Throws pocket::Error (TemplateRaised
// when the template itself rejects the conversation).
Prompt build_prompt(const Engine& engine, const VisionEncoder* vision, const PromptRequest& request,
                    const PromptMedia& media, ThreadPool& pool);

// The step after rendering, for callers that already have the text: expands the vision
// family's placeholders in `rendered` with `media`, tokenizes (caller text in the `literal`
// spans stays text for Tekken models) and places each image row at its image token.
Prompt tokenize_prompt(const Engine& engine, const VisionEncoder* vision, const std::string& rendered,
                       const std::vector<TextSpan>& literal, const PromptMedia& media, ThreadPool& pool);

// Throws unless the projector's embeddings fit the text model (run and serve check at start).
void check_projector_fits(const Engine& engine, const VisionEncoder& vision);

}  // namespace pocket
