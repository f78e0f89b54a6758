// `pocket run`: generate text from a prompt, streaming it to stdout as it is produced.
// Timing statistics go to stderr so stdout carries only the model's text.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "chat/chat.h"
#include "core/error.h"
#include "core/timer.h"
#include "io/gguf.h"
#include "models/hf_checkpoint.h"
#include "vision/checkpoint.h"
#include "runtime/model_ref.h"
#include "runtime/conversation.h"
#include "sampling/json_schema.h"

namespace pocket::cli {

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  struct Args {
    ModelArgs m;
    std::string prompt;
    int n_predict = 128;
    int64_t n_ctx = 4096;
    SamplerParams sp;
    std::vector<std::string> stop;
    bool json = false;
    std::string json_schema;  // file
    int64_t seed = -1;
    bool quiet = false;
    bool offline = false;
    bool chat = false;
    bool special = false;
    std::string system, template_file, mmproj;
    std::vector<std::string> images, videos;
    double video_fps = 1.0;
    int max_frames = 64;
    ImageDetailArgs detail;
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
  cmd->add_option("--stop", a->stop, "Stop string (repeatable); generation ends before it");
  cmd->add_flag("--json", a->json, "Constrain the output to one JSON object");
  cmd->add_option("--json-schema", a->json_schema, "Constrain the output to JSON valid against this JSON Schema file")
      ->check(CLI::ExistingFile);
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
  a->detail.add(cmd);
  cmd->callback([a] {
    POCKET_CHECK(a->n_predict >= -1, "-n must be >= -1");
    // A store model (short name or owner/name[:QUANT]) brings its mmproj unless --mmproj is given.
    const ResolvedModel resolved = resolve_model(a->m.model, ResolveOptions{a->offline, a->quiet});
    a->m.model = resolved.model_path;
    if (a->mmproj.empty()) a->mmproj = resolved.mmproj_path;
    auto engine = a->m.load();
    const bool media = !a->images.empty() || !a->videos.empty();
    std::unique_ptr<VisionEncoder> enc;
    PromptMedia pm;
    if (media) {
      // A checkpoint folder brings its own vision tower, converted in memory (models/hf_checkpoint.h).
      std::unique_ptr<GgufFile> folder_mmproj;
      if (a->mmproj.empty() && is_checkpoint_dir(a->m.model)) {
        folder_mmproj = load_checkpoint_mmproj(a->m.model);
        POCKET_CHECK(folder_mmproj != nullptr, "checkpoint '{}' has no vision tower Pocket can convert: pass --mmproj",
                     a->m.model);
      }
      POCKET_CHECK(!a->mmproj.empty() || folder_mmproj, "--image and --video need --mmproj");
      enc = folder_mmproj ? VisionEncoder::load(std::move(folder_mmproj)) : VisionEncoder::load(a->mmproj);
      const ImageDetail detail = a->detail.resolve(*enc);
      for (const std::string& path : a->images) {
        pm.images.push_back(enc->load_image_file(path));
        pm.image_detail.push_back(detail);
      }
      for (const std::string& path : a->videos) {
        SmolVlmVideoParams vp = enc->video_params();
        vp.sampling.target_fps = a->video_fps;
        vp.sampling.max_frames = a->max_frames;
        if (isatty(fileno(stderr)) && !a->quiet) std::fprintf(stderr, "decoding %s ...\r", path.c_str());
        pm.videos.push_back(smolvlm_prepare_video_file(path, vp));
        if (!a->quiet)
          std::fprintf(stderr, "video: %s: %zu frames sampled of %lld\n", path.c_str(), pm.videos.back().tiles.size(),
                       static_cast<long long>(pm.videos.back().info.num_frames));
      }
    }
    // Rendered like transformers' apply_chat_template(tokenize=True): the template writes any
    // BOS itself. Without --chat (and no media) the prompt is raw text, as llama-cli takes it.
    // The same Conversation is the C library's session (src/api/).
    const bool raw = !media && !a->chat && a->template_file.empty();
    POCKET_CHECK(!raw || a->system.empty(), "--system needs --chat");
    SessionOptions so;
    so.n_ctx = a->n_ctx;
    Conversation conv(*engine, enc.get(), so);
    if (!a->template_file.empty()) conv.set_template(read_file(a->template_file));
    conv.set_system(a->system);
    conv.add_message("user", a->prompt);
    for (SmolVlmVideo& v : pm.videos) conv.add_video(std::move(v));
    for (size_t i = 0; i < pm.images.size(); ++i) conv.add_image(std::move(pm.images[i]), pm.image_detail[i]);
    // On a terminal, an encode that takes over a second shows its progress (tile i/N).
    double encode_start = now_seconds();
    if (media && !a->quiet && isatty(fileno(stderr)))
      conv.set_progress([&encode_start](int64_t done, int64_t total) {
        if (now_seconds() - encode_start < 1.0) return;
        std::fprintf(stderr, "\rencoding: tile %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
        if (done == total) std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
      });
    GenerateOptions go;
    go.max_tokens = a->n_predict;
    go.sampling = a->sp;
    go.sampling.seed = a->seed < 0 ? 0xFFFFFFFFull : static_cast<uint64_t>(a->seed);
    go.print_control = a->special;
    go.stop = a->stop;
    go.json_object = a->json;
    if (!a->json_schema.empty()) go.grammar = compile_json_schema(read_file(a->json_schema));
    go.on_text = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    };
    encode_start = now_seconds();
    const Conversation::Reply reply = raw ? conv.complete(a->prompt, go) : conv.reply(go);
    const GenerateResult& r = reply.gen;
    if (media && !a->quiet)
      std::fprintf(stderr, "images: %zu (%lld tiles, %lld image tokens) encoded in %.3f s\n", a->images.size(),
                   static_cast<long long>(reply.n_tiles), static_cast<long long>(reply.n_image_tokens),
                   reply.encode_seconds);
    std::fputc('\n', stdout);
    if (!a->quiet) {
      std::fprintf(stderr, "\nprompt: %zu tokens in %.3f s (%.1f tok/s); generated: %zu tokens in %.3f s (%.1f tok/s); stop: %s\n",
                   static_cast<size_t>(reply.n_prompt_tokens), r.prefill_seconds, reply.n_prompt_tokens / std::max(1e-9, r.prefill_seconds), r.tokens.size(),
                   r.decode_seconds, r.tokens.size() / std::max(1e-9, r.decode_seconds), r.stop_reason.c_str());
    }
  });
}

}  // namespace pocket::cli
