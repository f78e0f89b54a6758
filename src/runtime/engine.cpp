// Engine loading and the Session prefill/decode/generate loops.
#include "runtime/engine.h"

#include <algorithm>

#include "core/cpu.h"
#include "core/error.h"
#include "core/timer.h"
#include "kernels/dot.h"
#include "models/hf_checkpoint.h"
#include "models/registry.h"

namespace pocket {

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& opt) {
  const double t0 = now_seconds();
  auto e = std::unique_ptr<Engine>(new Engine());
  kernels::use_reference_kernels(opt.ref_kernels);
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
  int n = opt.n_threads > 0 ? opt.n_threads : default_thread_count();
  e->pool_ = std::make_unique<ThreadPool>(n);
  if (!opt.ref_kernels && !opt.no_repack) e->model_->repack_weights(*e->pool_);
  e->load_seconds_ = now_seconds() - t0;
  return e;
}

Session::Session(Engine& engine, const SessionOptions& opt) : engine_(engine), opt_(opt) {
  const TextHParams& hp = engine.hparams();
  int64_t n_ctx = opt.n_ctx > 0 ? opt.n_ctx : hp.n_ctx_train;
  if (hp.n_ctx_train > 0) n_ctx = std::min(n_ctx, hp.n_ctx_train);
  POCKET_CHECK(n_ctx > 0, "invalid context size {}", n_ctx);
  opt_.n_batch = std::clamp<int64_t>(opt.n_batch, 1, n_ctx);
  kv_.allocate(hp, n_ctx);
  // Logit rows: one per token of a batch, so eval_all can take whole batches.
  act_.allocate(hp, opt_.n_batch, opt_.n_batch);
}

const float* Session::eval_chunk(const int32_t* tokens, const float* const* embd, int64_t n, int64_t n_logits) {
  POCKET_CHECK(pos_ + n <= kv_.n_ctx, "context is full ({} tokens)", kv_.n_ctx);
  DecoderBatch b;
  b.tokens = tokens;
  b.embd = embd;
  b.n = n;
  b.pos0 = pos_;
  b.n_logits = n_logits;
  engine_.model().forward(b, kv_, act_, engine_.pool());
  pos_ += n;
  return act_.logits.data();
}

const float* Session::eval(const std::vector<int32_t>& tokens, const float* const* embd) {
  POCKET_CHECK(!tokens.empty(), "nothing to evaluate");
  const float* logits = nullptr;
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; i += opt_.n_batch) {
    const int64_t m = std::min(opt_.n_batch, n - i);
    logits = eval_chunk(tokens.data() + i, embd ? embd + i : nullptr, m, i + m == n ? 1 : 0);
  }
  return logits;
}

void Session::eval_all(const std::vector<int32_t>& tokens, const std::function<void(int64_t, const float*)>& sink) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t nv = engine_.hparams().n_vocab;
  for (int64_t i = 0; i < n; i += opt_.n_batch) {
    const int64_t m = std::min(opt_.n_batch, n - i);
    const float* logits = eval_chunk(tokens.data() + i, nullptr, m, m);
    for (int64_t r = 0; r < m; ++r) sink(i + r, logits + r * nv);
  }
}

const float* Session::step(int32_t token) { return eval_chunk(&token, nullptr, 1, 1); }

GenerateResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                                 const float* const* embd) {
  GenerateResult r;
  const Tokenizer& tok = engine_.tokenizer();
  Sampler sampler(opt.sampling, static_cast<int32_t>(engine_.hparams().n_vocab));
  std::vector<int32_t> history = prompt;
  const int64_t budget = opt.n_predict < 0 ? kv_.n_ctx : opt.n_predict;
  history.reserve(prompt.size() + static_cast<size_t>(budget) + 1);
  r.tokens.reserve(static_cast<size_t>(budget));

  double t0 = now_seconds();
  const float* logits = eval(prompt, embd);
  r.prefill_seconds = now_seconds() - t0;
  StreamDecoder dec(tok, !opt.print_control);
  t0 = now_seconds();
  r.stop_reason = "length";
  for (int64_t i = 0; i < budget; ++i) {
    const int32_t id = sampler.sample(logits, history);
    if (opt.stop_at_eog && tok.is_eog(id)) {
      r.stop_reason = "eog";
      break;
    }
    r.tokens.push_back(id);
    history.push_back(id);
    std::string piece = dec.push(id);
    r.text += piece;
    if (opt.on_text && !piece.empty() && !opt.on_text(piece)) {
      r.stop_reason = "callback";
      break;
    }
    if (i + 1 == budget) break;
    if (pos_ >= kv_.n_ctx) {
      r.stop_reason = "context";
      break;
    }
    logits = step(id);
  }
  std::string rest = dec.flush();
  if (!rest.empty()) {
    r.text += rest;
    if (opt.on_text) opt.on_text(rest);
  }
  r.decode_seconds = now_seconds() - t0;
  return r;
}

}  // namespace pocket
