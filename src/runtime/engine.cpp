// Engine loading, the context rule, the prefill loop and Session (eval / step / generate).
#include "runtime/engine.h"

#include <algorithm>

#include "core/cpu.h"
#include "core/error.h"
#include "core/timer.h"
#include "models/hf_checkpoint.h"
#include "models/registry.h"

namespace pocket {

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& opt) {
  const double t0 = now_seconds();
  auto e = std::unique_ptr<Engine>(new Engine());
  const bool folder = is_checkpoint_dir(path);
  if (folder) {
    ConvertOptions co;
    co.quant = opt.quant;
    co.n_threads = opt.n_threads > 0 ? opt.n_threads : default_thread_count();
    e->file_ = load_checkpoint(path, co);
  } else {
    e->file_ = GgufFile::open(path);
  }
  e->model_ = load_decoder(*e->file_);
  // A folder whose tokenizer has no GGUF form keeps using its tokenizer.json directly.
  if (folder && !e->file_->find("tokenizer.ggml.model")) e->tokenizer_ = Tokenizer::from_tokenizer_json(path + "/tokenizer.json");
  else e->tokenizer_ = Tokenizer::from_gguf(*e->file_);
  POCKET_CHECK(e->tokenizer_->n_vocab() == e->model_->hparams().n_vocab,
               "{}: tokenizer has {} tokens but the embedding has {} rows", path, e->tokenizer_->n_vocab(),
               e->model_->hparams().n_vocab);
  e->pieces_ = std::make_unique<TokenPieces>(*e->tokenizer_);
  e->meta_.path = path;
  e->meta_.name = e->file_->get_string_or("general.name", "");
  e->meta_.license = e->file_->get_string_or("general.license", "");
  e->meta_.chat_template = opt.chat_template.empty() ? e->file_->get_string_or("tokenizer.chat_template", "") : opt.chat_template;
  int n = opt.n_threads > 0 ? opt.n_threads : default_thread_count();
  e->pool_ = std::make_unique<ThreadPool>(n);
  if (!opt.no_repack) e->model_->repack_weights(*e->pool_);
  e->load_seconds_ = now_seconds() - t0;
  return e;
}

int64_t context_size(const TextHParams& hp, int64_t requested) {
  int64_t n_ctx = requested > 0 ? requested : hp.n_ctx_train;
  if (hp.n_ctx_train > 0) n_ctx = std::min(n_ctx, hp.n_ctx_train);
  POCKET_CHECK(n_ctx > 1, "invalid context size {}", n_ctx);
  return n_ctx;
}

void check_prompt_fits(size_t n_prompt, int64_t n_ctx) {
  POCKET_CHECK(n_prompt > 0, "the prompt is empty");
  POCKET_CHECK(static_cast<int64_t>(n_prompt) < n_ctx, "prompt ({} tokens) does not fit the context ({})", n_prompt,
               n_ctx);
}

const float* prefill(const Engine& engine, const int32_t* tokens, const float* const* embd, int64_t n, int64_t pos0,
                     int64_t n_batch, KvCache& kv, DecoderActivations& act, ThreadPool& pool,
                     const LogitSink& all_logits) {
  POCKET_CHECK(n > 0, "nothing to evaluate");
  POCKET_CHECK(pos0 + n <= kv.n_ctx, "context is full ({} tokens)", kv.n_ctx);
  const int64_t nv = engine.hparams().n_vocab;
  for (int64_t i = 0; i < n; i += n_batch) {
    DecoderBatch b;
    b.tokens = tokens + i;
    b.embd = embd ? embd + i : nullptr;
    b.n = std::min(n_batch, n - i);
    b.pos0 = pos0 + i;
    b.n_logits = all_logits ? b.n : (i + b.n == n ? 1 : 0);
    engine.model().forward(b, kv, act, pool);
    if (all_logits)
      for (int64_t r = 0; r < b.n; ++r) all_logits(i + r, act.logits.data() + r * nv);
  }
  return act.logits.data();
}

Session::Session(Engine& engine, const SessionOptions& opt) : engine_(engine), opt_(opt) {
  if (opt_.pool == nullptr) opt_.pool = &engine.pool();
  const TextHParams& hp = engine.hparams();
  const int64_t n_ctx = context_size(hp, opt.n_ctx);
  opt_.n_batch = std::clamp<int64_t>(opt.n_batch, 1, n_ctx);
  kv_.allocate(hp, n_ctx);
  // Logit rows: one per token of a batch, so eval_all can take whole batches.
  act_.allocate(hp, opt_.n_batch, opt_.n_batch);
}

const float* Session::eval(const std::vector<int32_t>& tokens, const float* const* embd) {
  const float* logits = prefill(engine_, tokens.data(), embd, static_cast<int64_t>(tokens.size()), pos_, opt_.n_batch,
                                kv_, act_, pool());
  pos_ += static_cast<int64_t>(tokens.size());
  return logits;
}

void Session::eval_all(const std::vector<int32_t>& tokens, const std::function<void(int64_t, const float*)>& sink) {
  POCKET_CHECK(static_cast<bool>(sink), "eval_all needs a sink");
  prefill(engine_, tokens.data(), nullptr, static_cast<int64_t>(tokens.size()), pos_, opt_.n_batch, kv_, act_,
          pool(), sink);
  pos_ += static_cast<int64_t>(tokens.size());
}

const float* Session::step(int32_t token) {
  const float* logits = prefill(engine_, &token, nullptr, 1, pos_, 1, kv_, act_, pool());
  ++pos_;
  return logits;
}

GenerateResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                                 const float* const* embd) {
  check_prompt_fits(prompt.size() + static_cast<size_t>(pos_), kv_.n_ctx);
  check_constraint_budget(opt, engine_.tokenizer());
  GenerateResult r;
  Generation gen(engine_);
  gen.start(prompt, opt, kv_.n_ctx);
  const auto cancelled = [&] { return opt.cancel && opt.cancel->load(std::memory_order_relaxed); };
  FinishReason why = opt.max_tokens == 0 ? FinishReason::Length : FinishReason::None;
  if (cancelled()) why = FinishReason::Cancelled;
  double t0 = now_seconds();
  const float* logits = why == FinishReason::None ? eval(prompt, embd) : nullptr;
  r.prefill_seconds = now_seconds() - t0;
  t0 = now_seconds();
  std::string piece;
  while (why == FinishReason::None) {
    if (cancelled()) {
      why = FinishReason::Cancelled;
      break;
    }
    const int32_t id = gen.choose(logits);
    piece.clear();
    why = gen.accept(id, pos_, piece);
    r.text += piece;
    if (opt.on_text && !piece.empty() && !opt.on_text(piece)) why = FinishReason::Cancelled;
    if (why == FinishReason::None) logits = step(id);
  }
  piece.clear();
  gen.finish(why, piece);
  r.text += piece;
  if (opt.on_text && !piece.empty()) opt.on_text(piece);
  r.tokens.assign(gen.history().begin() + static_cast<long>(prompt.size()), gen.history().end());
  r.stop_reason = finish_reason_name(why);
  r.decode_seconds = now_seconds() - t0;
  return r;
}

}  // namespace pocket
