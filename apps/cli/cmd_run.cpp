// `pocket run`: generate text from a prompt, streaming it to stdout as it is produced.
// Timing statistics go to stderr so stdout carries only the model's text.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "chat/chat.h"
#include "chat/prompt_tokens.h"
#include "core/error.h"
#include "io/gguf.h"
#include "models/hf_checkpoint.h"
#include "runtime/model_ref.h"
#include "runtime/multimodal.h"

namespace pocket::cli {

std::string render_chat_prompt(const Engine& engine, const std::string& template_file, const std::string& system,
                               const std::string& user, const std::vector<std::string>& media,
                               const std::string& template_text) {
  return render_chat_prompt_literal(engine, template_file, system, user, media, template_text).text;
}

RenderedChat render_chat_prompt_literal(const Engine& engine, const std::string& template_file,
                                        const std::string& system, const std::string& user,
                                        const std::vector<std::string>& media, const std::string& template_text) {
  std::string source;
  const int n_media = static_cast<int>(media.size());
  if (!template_file.empty()) {
    std::ifstream f(template_file, std::ios::binary);
    POCKET_CHECK(f, "cannot read chat template '{}'", template_file);
    std::ostringstream ss;
    ss << f.rdbuf();
    source = ss.str();
  } else if (!template_text.empty()) {
    source = template_text;
  } else {
    source = engine.file().get_string_or("tokenizer.chat_template", "");
    POCKET_CHECK(!source.empty(), "{} has no chat template (tokenizer.chat_template); pass --template FILE",
                 engine.file().path());
  }
  const Tokenizer& tok = engine.tokenizer();
  const ChatTemplate tmpl(source);
  auto render = [&](bool as_parts) {
    ChatRequest req;
    auto message = [&](const char* role, const std::string& text, int n) {
      if (!as_parts && n == 0) return ChatMessage::from_text(role, text);
      ChatMessage m;
      m.role = role;
      for (int i = 0; i < n; ++i) m.parts.push_back({media[i], "", nullptr});
      m.parts.push_back({"text", text, nullptr});
      return m;
    };
    if (!system.empty()) req.messages.push_back(message("system", system, 0));
    req.messages.push_back(message("user", user, n_media));
    req.add_generation_prompt = true;
    if (tok.bos_id() >= 0) req.bos_token = tok.token_text(tok.bos_id());
    if (tok.eos_id() >= 0) req.eos_token = tok.token_text(tok.eos_id());
    const LiteralPrompt p = render_with_literal_spans(tmpl, req);
    return RenderedChat{p.text, p.literal};
  };
  // Text-only templates take string content; multimodal ones (SmolVLM2) iterate typed parts
  // and silently drop a plain string, as transformers' processors always send parts.
  RenderedChat out = render(n_media > 0);
  if (!user.empty() && out.text.find(user) == std::string::npos) out = render(true);
  return out;
}

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  struct Args {
    ModelArgs m;
    std::string prompt;
    int n_predict = 128;
    int64_t n_ctx = 4096;
    SamplerParams sp;
    int64_t seed = -1;
    bool quiet = false;
    bool offline = false;
    bool chat = false;
    bool special = false;
    std::string system, template_file, mmproj;
    std::vector<std::string> images, videos;
    double video_fps = 1.0;
    int max_frames = 64;
  };
  auto a = std::make_shared<Args>();
  a->m.add(cmd);
  cmd->add_option("-p,--prompt", a->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", a->n_predict, "Tokens to generate (-1: until end of generation)");
  cmd->add_option("-c,--ctx-size", a->n_ctx, "Context size");
  cmd->add_option("--temp", a->sp.temperature, "Temperature (0 = greedy)");
  cmd->add_option("--top-k", a->sp.top_k, "Top-k (0 = off)");
  cmd->add_option("--top-p", a->sp.top_p, "Top-p (1 = off)");
  cmd->add_option("--min-p", a->sp.min_p, "Min-p (0 = off)");
  cmd->add_option("--repeat-penalty", a->sp.repeat_penalty, "Repetition penalty (1 = off)");
  cmd->add_option("--repeat-last-n", a->sp.repeat_last_n, "Tokens considered for the penalty (-1 = all)");
  cmd->add_option("--seed", a->seed, "Random seed (-1 = random)");
  cmd->add_flag("-q,--quiet", a->quiet, "No statistics on stderr");
  cmd->add_flag("--offline", a->offline, "Use only models already in the store (no download)");
  cmd->add_flag("--special", a->special, "Print control tokens (e.g. [/INST], <|im_end|>) in the output");
  cmd->add_flag("--chat", a->chat, "Apply the model's chat template to the prompt as a user turn");
  cmd->add_option("--system", a->system, "System message (with --chat)");
  cmd->add_option("--template", a->template_file, "Chat template file (Jinja) instead of the model's (implies --chat)");
  cmd->add_option("--mmproj", a->mmproj, "Vision projector (mmproj GGUF) for --image");
  cmd->add_option("--image", a->images, "Image file (repeatable); placed before the text by the chat template");
  cmd->add_option("--video", a->videos, "Video file (repeatable; SmolVLM2): frames sampled as the model was trained");
  cmd->add_option("--fps", a->video_fps, "Video frames sampled per second (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-frames", a->max_frames, "Most video frames sampled (default 64)")->check(CLI::Range(1, 1024));
  cmd->callback([a] {
    POCKET_CHECK(a->n_predict >= -1, "-n must be >= -1");
    // A store model (short name or owner/name[:QUANT]) brings its mmproj unless --mmproj is given.
    const ResolvedModel resolved = resolve_model(a->m.model, ResolveOptions{a->offline, a->quiet});
    a->m.model = resolved.model_path;
    if (a->mmproj.empty()) a->mmproj = resolved.mmproj_path;
    auto engine = a->m.load();
    const Tokenizer& tok = engine->tokenizer();
    std::vector<int32_t> prompt;
    MultimodalPrompt mm;
    if (!a->images.empty() || !a->videos.empty()) {
      // A checkpoint folder brings its own vision tower, converted in memory (models/hf_checkpoint.h).
      std::unique_ptr<GgufFile> folder_mmproj;
      if (a->mmproj.empty() && is_checkpoint_dir(a->m.model)) {
        folder_mmproj = load_checkpoint_mmproj(a->m.model);
        POCKET_CHECK(folder_mmproj != nullptr, "checkpoint '{}' has no vision tower Pocket can convert: pass --mmproj",
                     a->m.model);
      }
      POCKET_CHECK(!a->mmproj.empty() || folder_mmproj, "--image and --video need --mmproj");
      auto enc = folder_mmproj ? VisionEncoder::load(std::move(folder_mmproj)) : VisionEncoder::load(a->mmproj);
      std::vector<Image> images;
      for (const std::string& path : a->images) images.push_back(load_image_for(*enc, path));
      std::vector<SmolVlmVideo> videos;
      std::vector<std::string> media;
      for (const std::string& path : a->videos) {
        SmolVlmVideoParams vp = smolvlm_video_params(*enc);
        vp.sampling.target_fps = a->video_fps;
        vp.sampling.max_frames = a->max_frames;
        const bool tty = isatty(fileno(stderr));
        if (tty && !a->quiet) std::fprintf(stderr, "decoding %s ...\r", path.c_str());
        videos.push_back(smolvlm_prepare_video_file(path, vp));
        if (!a->quiet)
          std::fprintf(stderr, "video: %s: %zu frames sampled of %lld\n", path.c_str(), videos.back().tiles.size(),
                       static_cast<long long>(videos.back().info.num_frames));
        media.push_back("video");
      }
      for (size_t i = 0; i < images.size(); ++i) media.push_back("image");
      // transformers' SmolVLM processor renders video turns with its built-in template.
      const RenderedChat rendered = render_chat_prompt_literal(*engine, a->template_file, a->system, a->prompt, media,
                                                               videos.empty() ? "" : kSmolVlmVideoChatTemplate);
      mm = build_multimodal_prompt(*engine, *enc, rendered.text, rendered.literal, images, engine->pool(), videos);
      prompt = mm.tokens;
      if (!a->quiet)
        std::fprintf(stderr, "images: %zu (%lld tiles, %lld image tokens) encoded in %.3f s\n", images.size(),
                     static_cast<long long>(mm.n_tiles), static_cast<long long>(mm.n_image_tokens), mm.encode_seconds);
    } else if (a->chat || !a->template_file.empty()) {
      // Rendered like transformers' apply_chat_template(tokenize=True): the template writes
      // any BOS itself, so the text is tokenized without adding one.
      // Message text stays literal for Tekken models (mistral-common never parses control
      // tokens out of it; chat/prompt_tokens.h).
      const RenderedChat rendered = render_chat_prompt_literal(*engine, a->template_file, a->system, a->prompt);
      prompt = tokenize_chat_prompt(tok, rendered.text, rendered.literal);
    } else {
      POCKET_CHECK(a->system.empty(), "--system needs --chat");
      prompt = tok.encode(a->prompt, tok.add_bos_default(), true);
    }
    POCKET_CHECK(!prompt.empty(), "the prompt is empty");
    SessionOptions so;
    so.n_ctx = a->n_ctx;
    Session s(*engine, so);
    POCKET_CHECK(static_cast<int64_t>(prompt.size()) < s.n_ctx(), "prompt ({} tokens) does not fit the context ({})",
                 prompt.size(), s.n_ctx());
    GenerateOptions go;
    go.n_predict = a->n_predict;
    go.sampling = a->sp;
    go.print_control = a->special;
    go.sampling.seed = a->seed < 0 ? 0xFFFFFFFFull : static_cast<uint64_t>(a->seed);
    go.on_text = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    };
    GenerateResult r = s.generate(prompt, go, mm.embd.empty() ? nullptr : mm.embd.data());
    std::fputc('\n', stdout);
    if (!a->quiet) {
      std::fprintf(stderr, "\nprompt: %zu tokens in %.3f s (%.1f tok/s); generated: %zu tokens in %.3f s (%.1f tok/s); stop: %s\n",
                   prompt.size(), r.prefill_seconds, prompt.size() / std::max(1e-9, r.prefill_seconds), r.tokens.size(),
                   r.decode_seconds, r.tokens.size() / std::max(1e-9, r.decode_seconds), r.stop_reason.c_str());
    }
  });
}

}  // namespace pocket::cli
