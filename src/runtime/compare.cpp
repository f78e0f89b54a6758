// `pocket compare` measurements: one model at a time, loaded, probed, run on the prompt suite
// and freed, all in this process (see compare.h for what is measured).
//
// Peak memory per model: before a model is loaded, freed heap is handed back (malloc_trim)
// and the kernel's high-water mark is reset by writing "5" to /proc/self/clear_refs
// (Documentation/admin-guide/mm/soft-dirty.rst: "echo 5 > /proc/PID/clear_refs" resets the
// peak RSS, VmHWM, to the current RSS). VmHWM read after the model's last step is then the
// peak while that model was in memory, whatever came before it. Where the reset is refused
// (old kernels, some sandboxes) a thread samples VmRSS every 2 ms instead ("sampled").
// The figure is the whole process (mapped weights, KV, activations, the binary itself);
// baseline_rss_bytes says how much was resident before the load.
#include "runtime/compare.h"

#if defined(__GLIBC__)
#include <malloc.h>  // malloc_trim: glibc only; elsewhere the peak includes freed heap
#endif
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/timer.h"
#include "media/frame_sampling.h"
#include "models/hf_checkpoint.h"
#include "vision/checkpoint.h"
#include "runtime/model_ref.h"
#include "runtime/prompt.h"
#include "vision/vision_encoder.h"

namespace pocket {

namespace fs = std::filesystem;

namespace {

constexpr int kSyntheticVideoFrames = 8;
constexpr double kMinProbeSeconds = 0.1;  // Pixtral "one tile" image side (SmolVLM2's tile size)

double cpu_seconds_now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

uint64_t file_bytes(const std::string& path) {
  if (path.empty()) return 0;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(path, ec))
      if (e.is_regular_file(ec)) total += e.file_size(ec);
    return total;
  }
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Peak resident memory of one model's phase (see the file comment).
class PeakRss {
 public:
  PeakRss() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (f) {
      reset_ok_ = std::fputs("5", f) >= 0;
      reset_ok_ = (std::fclose(f) == 0) && reset_ok_;
    }
    baseline_ = current_rss_bytes();
    if (!reset_ok_) {
      sampled_ = baseline_;
      sampler_ = std::thread([this] {
        while (!stop_.load()) {
          const uint64_t r = current_rss_bytes();
          if (r > sampled_.load()) sampled_ = r;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
    }
  }
  ~PeakRss() { stop(); }
  uint64_t baseline() const { return baseline_; }
  const char* method() const { return reset_ok_ ? "vmhwm-reset" : "sampled"; }
  uint64_t peak() {
    stop();
    return reset_ok_ ? std::max(peak_rss_bytes(), baseline_) : std::max(sampled_.load(), current_rss_bytes());
  }

 private:
  void stop() {
    stop_ = true;
    if (sampler_.joinable()) sampler_.join();
  }
  bool reset_ok_ = false;
  uint64_t baseline_ = 0;
  std::atomic<uint64_t> sampled_{0};
  std::atomic<bool> stop_{false};
  std::thread sampler_;
};

std::string label_for(const std::string& spec, const std::string& path) {
  fs::path p(path.empty() ? spec : path);
  if (p.has_filename() && p.filename() != ".") {
    std::string stem = p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
    if (!stem.empty()) return stem;
  }
  return spec;
}

struct Turn {
  std::string text;
  double ttft_s = 0;  // preparation (template, preprocessing, encoding, tokenizing) + prefill
  double total_s = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  int64_t tiles = 0;
  double encode_s = 0;
};

// One user turn, greedy. `prepare` (optional) runs inside the timed region before the
// prompt is built: it turns raw media into what the model takes (decoding a video file,
// tiling synthetic frames), so that work counts in the time to first token.
Turn run_turn(Engine& engine, const VisionEncoder* enc, Session& session, const std::string& user, PromptMedia media,
              int n_predict, bool stop_at_eog, const std::function<void(PromptMedia&)>& prepare = {}) {
  const double t0 = now_seconds();
  if (prepare) prepare(media);
  PromptRequest req;
  // A base model without a chat template gets the raw text (as `pocket run` without --chat).
  req.raw = media.empty() && engine.chat_template().empty();
  req.raw_text = user;
  req.chat.messages.push_back(user_turn(user, media));
  const Prompt prompt = build_prompt(engine, enc, req, media, engine.pool());
  POCKET_CHECK(static_cast<int64_t>(prompt.tokens.size()) + n_predict < session.n_ctx(),
               "prompt ({} tokens) + {} generated do not fit the context ({}; raise -c)", prompt.tokens.size(),
               n_predict, session.n_ctx());
  const double t_prepared = now_seconds();
  session.reset();
  GenerateOptions go;
  go.max_tokens = n_predict;
  go.stop_at_eog = stop_at_eog;
  go.sampling.temperature = 0;  // greedy: answers are reproducible and comparable
  go.sampling.repeat_penalty = 1;
  go.sampling.seed = 42;
  GenerateResult r = session.generate(prompt.tokens, go, prompt.embd_or_null());
  Turn t;
  t.total_s = now_seconds() - t0;
  t.ttft_s = (t_prepared - t0) + r.prefill_seconds;
  t.text = r.text;
  t.prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
  t.generated_tokens = static_cast<int64_t>(r.tokens.size());
  t.tiles = prompt.n_tiles;
  t.encode_s = prompt.encode_seconds;
  return t;
}

Image prompt_image(const VisionEncoder& enc, const std::string& path) {
  if (path.rfind("synthetic:", 0) == 0) {
    // "synthetic:WxH" (gradients) or "synthetic:red-WxH" (mostly red, for the smoke suite).
    std::string s = path.substr(10);
    const bool red = s.rfind("red-", 0) == 0;
    if (red) s = s.substr(4);
    int w = 0, h = 0;
    POCKET_CHECK(std::sscanf(s.c_str(), "%dx%d", &w, &h) == 2 && w > 0 && h > 0 && w <= 8192 && h <= 8192,
                 "bad synthetic image '{}' (expected synthetic:WxH)", path);
    Image img = make_synthetic_image(w, h, 7);
    if (red)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          if ((x / 64 + y / 64) % 5 != 0) {
            uint8_t* p = img.row(y) + 3 * x;
            p[0] = 220, p[1] = 20, p[2] = 30;
          }
    return img;
  }
  return enc.load_image_file(path);
}

void measure_probes(ModelMeasurement& m, Engine& engine, const VisionEncoder* enc, Session& session,
                    const CompareOptions& opt, const std::function<void(const std::string&)>& say) {
  const int runs = std::max(1, opt.runs);
  const std::string question = "What is the capital of France?";

  // Warm-up: touches the weights once so the first timed run does not pay page faults.
  run_turn(engine, enc, session, question, {}, 1, false);

  say("text: time to first token");
  std::vector<double> v;
  for (int r = 0; r < runs; ++r)
    v.push_back(run_turn(engine, enc, session, question, {}, 1, false).ttft_s);
  m.ttft_text_ms = 1e3 * median(v);

  say("text: prefill and decode throughput");
  // Prefill: a plain English paragraph cut to a fixed token count, so every model prefills
  // the same number of its own tokens.
  std::string para;
  std::vector<int32_t> ptoks;
  const int64_t n_prefill = std::min<int64_t>(256, session.n_ctx() / 2);
  while (static_cast<int64_t>(ptoks.size()) < n_prefill) {
    para += "The quick brown fox jumps over the lazy dog while the small pocket model reads every word. ";
    ptoks = engine.tokenizer().encode(para, engine.tokenizer().add_bos_default(), false);
  }
  ptoks.resize(static_cast<size_t>(n_prefill));
  const int n_decode = std::max(8, opt.max_tokens);
  const int32_t n_vocab = static_cast<int32_t>(engine.hparams().n_vocab);
  // Each throughput run lasts at least kMinProbeSeconds (repeating the prefill, extending the
  // decode while the context allows): on small models a single pass takes microseconds and
  // one scheduler hiccup would otherwise decide the ranking.
  std::vector<double> pp, tg;
  for (int r = 0; r < runs; ++r) {
    int64_t done = 0;
    double t0 = now_seconds(), dt = 0;
    do {
      session.reset();
      session.eval(ptoks);
      done += n_prefill;
      dt = now_seconds() - t0;
    } while (dt < kMinProbeSeconds);
    pp.push_back(static_cast<double>(done) / std::max(1e-9, dt));
    // Decode: greedy steps after a short prompt (EOG ignored, so every model makes n steps).
    session.reset();
    const float* logits = session.eval(std::vector<int32_t>(ptoks.begin(), ptoks.begin() + std::min<int64_t>(16, n_prefill)));
    int64_t steps = 0;
    t0 = now_seconds();
    dt = 0;
    while ((steps < n_decode || dt < kMinProbeSeconds) && session.pos() < session.n_ctx()) {
      const int32_t tok = static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits);
      logits = session.step(tok);
      ++steps;
      dt = now_seconds() - t0;
    }
    tg.push_back(static_cast<double>(steps) / std::max(1e-9, dt));
  }
  m.prefill_tokens_per_second = median(pp);
  m.decode_tokens_per_second = median(tg);

  if (!enc) return;

  // A media probe that cannot run (e.g. the prompt does not fit -c) leaves its number unset
  // and says why in the notes; the other measurements still count.
  auto probe = [&](const char* what, const std::function<void()>& body) {
    say(what);
    try {
      body();
    } catch (const Error& e) {
      m.notes.push_back(fmt::format("{} probe failed: {}", what, e.what()));
      say(m.notes.back());
    }
  };

  probe("image: one tile", [&] {
    v.clear();
    const PromptMedia one = enc->one_tile_media([](int w, int h) { return make_synthetic_image(w, h, 3); });
    for (int r = 0; r < runs; ++r) v.push_back(run_turn(engine, enc, session, "Describe.", one, 1, false).ttft_s);
    m.ttft_tile_ms = 1e3 * median(v);
  });

  probe("image: 1920x1080", [&] {
    v.clear();
    std::vector<double> enc_per_tile;
    const Image hd = make_synthetic_image(1920, 1080, 5);
    for (int r = 0; r < runs; ++r) {
      PromptMedia media;
      media.images = {hd};
      Turn t = run_turn(engine, enc, session, "Describe this image.", media, 1, false);
      v.push_back(t.ttft_s);
      m.image_tiles_1080p = t.tiles;
      if (t.tiles > 0) enc_per_tile.push_back(1e3 * t.encode_s / static_cast<double>(t.tiles));
    }
    m.ttft_image_ms = 1e3 * median(v);
    if (!enc_per_tile.empty()) m.encode_ms_per_tile = median(enc_per_tile);
  });

  if (!enc->takes_video()) return;
  const SmolVlmVideoParams vp = enc->video_params();
  std::function<void(PromptMedia&)> prepare;
  if (!opt.video_probe.empty()) {
    m.video_probe = opt.video_probe;
    prepare = [&](PromptMedia& media) {
      media.videos = {smolvlm_prepare_video_file(opt.video_probe, vp)};
    };
  } else {
    m.video_probe = fmt::format("synthetic: {} frames 1920x1080", kSyntheticVideoFrames);
    prepare = [&](PromptMedia& media) {
      SmolVlmVideo sv;  // one frame a second
      for (int i = 0; i < kSyntheticVideoFrames; ++i) {
        sv.tiles.push_back(smolvlm_video_tile(make_synthetic_image(1920, 1080, 11 + i), vp));
        sv.plan.timestamps.push_back(timestamp_mmss(i));
      }
      sv.info.duration = kSyntheticVideoFrames;
      sv.num_image_tokens = static_cast<int64_t>(kSyntheticVideoFrames) * vp.image_seq_len;
      media.videos = {std::move(sv)};
    };
  }
  probe("video: time to first token", [&] {
    v.clear();
    for (int r = 0; r < runs; ++r)
      v.push_back(run_turn(engine, enc, session, "Describe this video.", {}, 1, false, prepare).ttft_s);
    m.ttft_video_ms = 1e3 * median(v);
  });
}

void run_prompts(ModelMeasurement& m, Engine& engine, const VisionEncoder* enc, Session& session,
                 const std::vector<ComparePrompt>& prompts, const CompareOptions& opt,
                 const std::function<void(const std::string&)>& say) {
  double cpu_total = 0;
  int answered = 0;
  double sum_q = 0, sum_e = 0, sum_c = 0, sum_a = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const ComparePrompt& p = prompts[i];
    say(fmt::format("prompt {}/{} ({})", i + 1, prompts.size(), p.id));
    ComparePromptResult r;
    r.id = p.id;
    if ((!p.images.empty() || !p.video.empty()) && !enc) {
      r.skipped_reason = "no vision projector (mmproj)";
    } else if (!p.video.empty() && !enc->takes_video()) {
      r.skipped_reason = "no video input for this model";
    } else {
      try {
        const double c0 = cpu_seconds_now();
        std::function<void(PromptMedia&)> prepare = [&](PromptMedia& media) {
          for (const std::string& path : p.images) media.images.push_back(prompt_image(*enc, path));
          if (!p.video.empty()) media.videos.push_back(smolvlm_prepare_video_file(p.video, enc->video_params()));
        };
        Turn t = run_turn(engine, enc, session, p.prompt, {}, opt.max_tokens, true, prepare);
        r.cpu_seconds = cpu_seconds_now() - c0;
        r.answered = true;
        r.answer = t.text;
        r.ttft_ms = 1e3 * t.ttft_s;
        r.total_ms = 1e3 * t.total_s;
        r.prompt_tokens = t.prompt_tokens;
        r.generated_tokens = t.generated_tokens;
        cpu_total += r.cpu_seconds;
        ++answered;
      } catch (const Error& e) {
        r.skipped_reason = e.what();
      }
    }
    if (!p.references.empty()) {
      // A prompt the model cannot take scores 0: the suite is what the user needs answered.
      r.scores = r.answered ? score_answer(r.answer, p.references, p.match) : AnswerScores{};
      ++m.n_scored;
      sum_q += r.scores->score;
      sum_e += r.scores->exact;
      sum_c += r.scores->contains;
      sum_a += r.scores->anls;
    }
    m.prompts.push_back(std::move(r));
  }
  if (answered > 0) m.cpu_seconds_per_answer = cpu_total / answered;
  if (m.n_scored > 0) {
    m.quality = sum_q / m.n_scored;
    m.exact = sum_e / m.n_scored;
    m.contains = sum_c / m.n_scored;
    m.anls = sum_a / m.n_scored;
  }
}

bool template_mentions_tools(const std::string& tmpl) {
  // Templates that accept tool definitions read a `tools` variable (or emit the family's
  // tool markers); those that do not never mention it.
  return tmpl.find("tools") != std::string::npos || tmpl.find("[AVAILABLE_TOOLS]") != std::string::npos ||
         tmpl.find("<tool_call>") != std::string::npos;
}

void measure_model(ModelMeasurement& m, const CompareModelSpec& spec, const std::vector<ComparePrompt>& prompts,
                   const CompareOptions& opt, const std::function<void(const std::string&)>& say) {
  const ResolvedModel rm = resolve_model(spec.spec);
  m.model_path = rm.model_path;
  m.mmproj_path = spec.mmproj.empty() ? rm.mmproj_path : spec.mmproj;
  m.model_bytes = file_bytes(m.model_path);
  m.mmproj_bytes = file_bytes(m.mmproj_path);  // stays 0 for a tower inside a checkpoint folder

  PeakRss rss;
  m.baseline_rss_bytes = rss.baseline();
  m.peak_rss_method = rss.method();
  say("loading");
  const double t0 = now_seconds();
  EngineOptions eo;
  eo.n_threads = opt.n_threads;
  std::unique_ptr<Engine> engine = Engine::load(m.model_path, eo);
  std::unique_ptr<VisionEncoder> enc;
  if (!m.mmproj_path.empty()) {
    enc = VisionEncoder::load(m.mmproj_path);
  } else if (is_checkpoint_dir(m.model_path)) {
    // A checkpoint folder brings its own vision tower, converted in memory (as `pocket run`);
    // its bytes are already in the folder's size.
    if (std::unique_ptr<GgufFile> tower = load_checkpoint_mmproj(m.model_path)) {
      enc = VisionEncoder::load(std::move(tower));
      m.mmproj_path = m.model_path;
    }
  }
  m.load_ms = 1e3 * (now_seconds() - t0);
  m.threads = engine->pool().size();

  const TextHParams& hp = engine->hparams();
  m.arch = hp.arch;
  m.name = engine->metadata().name;
  m.kv_bytes_per_token = hp.kv_bytes_per_token();
  m.caps.context_length = hp.n_ctx_train;
  m.caps.license = engine->metadata().license;
  if (m.caps.license.empty()) m.caps.license = "unknown";
  m.caps.tools = template_mentions_tools(engine->chat_template());
  if (enc) {
    m.caps.images = true;
    m.caps.multi_image = true;
    m.caps.video = enc->takes_video();
    m.caps.vision_family = enc->hparams().projector_name;
  }

  SessionOptions so;
  so.n_ctx = opt.n_ctx;
  Session session(*engine, so);
  // The probes measure a cold encode every run: no embedding cache. The prompts keep it: an
  // image several prompts share is encoded once, as a server or a chat would.
  std::shared_ptr<EmbeddingCache> cache = std::make_shared<EmbeddingCache>(kDefaultEmbeddingCacheBytes);
  if (enc) enc->set_cache(nullptr);
  measure_probes(m, *engine, enc.get(), session, opt, say);
  if (enc) enc->set_cache(cache);
  run_prompts(m, *engine, enc.get(), session, prompts, opt, say);
  if (const EmbeddingCacheStats cs = cache->stats(); cs.hits > 0)
    m.notes.push_back(fmt::format("{} of {} image tiles came from the embedding cache (images shared by prompts)",
                                  cs.hits, cs.hits + cs.misses));
  m.peak_rss_bytes = rss.peak();
}

}  // namespace

Image make_synthetic_image(int width, int height, uint32_t seed) {
  Image img = make_image(width, height, PixelMode::RGB);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < width; ++x) {
      // Smooth gradients plus hard-edged blocks whose colours depend on the seed.
      const uint32_t block = static_cast<uint32_t>((x / 96) * 31 + (y / 96) * 17) + seed * 101;
      const bool edge = ((x / 96) + (y / 96)) % 3 == 0;
      row[3 * x + 0] = static_cast<uint8_t>(edge ? (block * 53) & 0xFF : (x * 255) / std::max(1, width - 1));
      row[3 * x + 1] = static_cast<uint8_t>(edge ? (block * 97) & 0xFF : (y * 255) / std::max(1, height - 1));
      row[3 * x + 2] = static_cast<uint8_t>(edge ? (block * 29) & 0xFF : ((x + y) * 255) / std::max(1, width + height - 2));
    }
  }
  return img;
}

std::vector<ModelMeasurement> run_compare(const std::vector<CompareModelSpec>& models,
                                          const std::vector<ComparePrompt>& prompts, const CompareOptions& opt) {
  POCKET_CHECK(!models.empty(), "compare: no models");
  POCKET_CHECK(opt.runs >= 1 && opt.max_tokens >= 1, "compare: --runs and --max-tokens must be >= 1");
  std::vector<ModelMeasurement> out(models.size());
  for (size_t i = 0; i < models.size(); ++i) {
    ModelMeasurement& m = out[i];
    m.spec = models[i].spec;
    m.label = label_for(models[i].spec, "");
    // Two entries with the same file name (e.g. one quantized twice) get distinct labels.
    for (size_t j = 0; j < i; ++j)
      if (out[j].label == m.label) m.label += fmt::format("#{}", i + 1);
    auto say = [&](const std::string& what) {
      if (opt.progress) opt.progress(fmt::format("[{}/{}] {}: {}", i + 1, models.size(), m.label, what));
    };
    try {
      measure_model(m, models[i], prompts, opt, say);
      say(fmt::format("done (peak RSS {:.1f} MiB)", m.peak_rss_bytes / 1048576.0));
    } catch (const Error& e) {
      m.error = e.what();
      say(std::string("failed: ") + e.what());
    } catch (const std::bad_alloc&) {
      m.error = "out of memory";
      say("failed: out of memory");
    }
  }
  return out;
}

}  // namespace pocket
