// build_prompt / tokenize_prompt: rendering, content shape, literal text and image rows.
#include "runtime/prompt.h"

#include "chat/prompt_tokens.h"
#include "core/error.h"
#include "core/timer.h"

namespace pocket {

namespace {

bool has_media_part(const ChatMessage& m) {
  for (const ChatContentPart& p : m.parts)
    if (p.type != "text") return true;
  return false;
}

// Typed parts for system and user messages (multimodal templates iterate them and drop a
// plain string, while transformers' processors always send parts), or plain strings for a
// text-only model (a media part is then an error).
void shape_content(ChatRequest& chat, bool as_parts) {
  for (ChatMessage& m : chat.messages) {
    if (as_parts && m.text && (m.role == "user" || m.role == "system")) {
      m.parts = {{"text", *m.text, nullptr}};
      m.text.reset();
    } else if (!as_parts && !m.text && !m.parts.empty()) {
      POCKET_CHECK(!has_media_part(m), "this model takes text only (images and video need a vision projector, --mmproj)");
      std::string joined;
      for (const ChatContentPart& p : m.parts) joined += p.text;
      m.text = joined;
      m.parts.clear();
    }
  }
}

// Whether every user message's text appears in the rendering.
bool keeps_user_text(const ChatRequest& chat, const std::string& rendered) {
  for (const ChatMessage& m : chat.messages)
    if (m.role == "user" && m.text && !m.text->empty() && rendered.find(*m.text) == std::string::npos) return false;
  return true;
}

}  // namespace

ChatMessage user_turn(const std::string& text, const PromptMedia& media) {
  if (media.empty()) return ChatMessage::from_text("user", text);
  ChatMessage m;
  m.role = "user";
  for (size_t i = 0; i < media.videos.size(); ++i) m.parts.push_back({"video", "", nullptr});
  for (size_t i = 0; i < media.images.size(); ++i) m.parts.push_back({"image", "", nullptr});
  m.parts.push_back({"text", text, nullptr});
  return m;
}

Prompt build_prompt(const Engine& engine, const VisionEncoder* vision, const PromptRequest& request,
                    const PromptMedia& media, ThreadPool& pool) {
  const Tokenizer& tok = engine.tokenizer();
  if (request.raw) {
    POCKET_CHECK(media.empty(), "images and video need a chat prompt");
    Prompt p;
    p.text = request.raw_text;
    p.tokens = tok.encode(request.raw_text, tok.add_bos_default(), true);
    return p;
  }
  POCKET_CHECK(media.empty() || vision != nullptr, "images and video need a vision projector (--mmproj)");
  std::string source = request.template_source;
  if (source.empty() && !media.videos.empty()) {
    POCKET_CHECK(vision->takes_video(), "this model ({} projector) has no video input", vision->hparams().projector_name);
    source = vision->video_chat_template();
  }
  if (source.empty()) source = engine.chat_template();
  POCKET_CHECK(!source.empty(), "{} has no chat template (tokenizer.chat_template); pass --template FILE",
               engine.metadata().path);

  bool as_parts = vision != nullptr;
  for (const ChatMessage& m : request.chat.messages) as_parts = as_parts || has_media_part(m);
  const ChatTemplate tmpl(source);
  // Caller text (messages, tool calls and results, tool schemas) is located in the rendering
  // so Tekken models tokenize it literally, as mistral-common does.
  auto render = [&](bool parts) {
    ChatRequest chat = request.chat;
    if (tok.bos_id() >= 0) chat.bos_token = tok.token_text(tok.bos_id());
    if (tok.eos_id() >= 0) chat.eos_token = tok.token_text(tok.eos_id());
    chat.add_generation_prompt = true;
    shape_content(chat, parts);
    return render_with_literal_spans(tmpl, chat);
  };
  LiteralPrompt rendered = render(as_parts);
  if (!as_parts && !keeps_user_text(request.chat, rendered.text)) rendered = render(true);
  return tokenize_prompt(engine, vision, rendered.text + request.suffix, rendered.literal, media, pool);
}

void check_projector_fits(const Engine& engine, const VisionEncoder& vision) {
  const int64_t d_model = engine.hparams().d_model;
  POCKET_CHECK(vision.n_embd() == d_model,
               "the projector ({}) outputs {}-wide embeddings but the text model expects {}: it belongs to another model",
               vision.hparams().projector_name, vision.n_embd(), d_model);
}

Prompt tokenize_prompt(const Engine& engine, const VisionEncoder* vision, const std::string& rendered,
                       const std::vector<TextSpan>& literal, const PromptMedia& media, ThreadPool& pool) {
  const Tokenizer& tok = engine.tokenizer();
  Prompt out;
  if (media.empty()) {
    out.tokens = tokenize_chat_prompt(tok, rendered, literal);
    out.text = rendered;
    return out;
  }
  POCKET_CHECK(vision != nullptr, "images and video need a vision projector (--mmproj)");
  check_projector_fits(engine, *vision);
  const int64_t d_model = engine.hparams().d_model;
  // Only tokenizers whose reference never parses control tokens from text (Tekken) keep
  // caller text literal; the others parse it as Hugging Face does.
  const std::vector<TextSpan> no_spans;
  const double t0 = now_seconds();
  MediaExpansion x = vision->expand(rendered, tok.literal_control_text() ? literal : no_spans, media, pool);
  out.encode_seconds = now_seconds() - t0;
  const auto image_id = tok.token_id(x.image_token);
  POCKET_CHECK(image_id.has_value(), "the model's vocabulary has no '{}' token", x.image_token);
  for (const std::string& t : x.required_tokens)
    POCKET_CHECK(tok.token_id(t).has_value(), "the model's vocabulary has no '{}' token", t);
  out.tokens = tokenize_chat_prompt(tok, x.text, x.literal);
  out.storage = std::move(x.rows);
  const int64_t n_rows = static_cast<int64_t>(out.storage.size()) / d_model;
  out.embd.assign(out.tokens.size(), nullptr);
  int64_t next = 0;
  for (size_t i = 0; i < out.tokens.size(); ++i) {
    if (out.tokens[i] != *image_id) continue;
    POCKET_CHECK(next < n_rows, "the prompt text contains more image tokens than the images produce ({})", n_rows);
    out.embd[i] = out.storage.data() + next * d_model;
    ++next;
  }
  POCKET_CHECK(next == n_rows, "image token count mismatch: {} positions for {} embeddings", next, n_rows);
  out.n_image_tokens = n_rows;
  out.n_tiles = x.n_tiles;
  out.text = std::move(x.text);
  return out;
}

}  // namespace pocket
