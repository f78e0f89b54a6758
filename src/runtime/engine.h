// Engine = what is shared by every conversation on one model: the mapped file, the bound
// weights, the tokenizer and the thread pool. Session = one conversation: KV cache,
// activations, position. Sessions are cheap; engines are loaded once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "io/gguf.h"
#include "model/decoder.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

struct EngineOptions {
  int n_threads = 0;          // 0 = all cores
  bool ref_kernels = false;   // scalar reference kernels (slow; for verification)
  bool no_repack = false;     // keep every weight in its file layout (memory-mapped only)
  DType quant = DType::Q8_0;  // checkpoint folders: type their matrices are quantized to at load
};

class Engine {
 public:
  // Throws pocket::Error on unreadable or unsupported files. `path` is a GGUF file or a Hugging
  // Face checkpoint folder (converted in memory, models/hf_checkpoint.h).
  static std::unique_ptr<Engine> load(const std::string& gguf_path, const EngineOptions& opt = {});

  const GgufFile& file() const { return *file_; }
  const DecoderModel& model() const { return *model_; }
  const TextHParams& hparams() const { return model_->hparams(); }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  ThreadPool& pool() { return *pool_; }
  double load_seconds() const { return load_seconds_; }

 private:
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<DecoderModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
  double load_seconds_ = 0;
};

struct SessionOptions {
  int64_t n_ctx = 4096;     // capped by the model's training context
  int64_t n_batch = 256;    // tokens per forward call during prefill
};

struct GenerateOptions {
  int n_predict = 128;                 // -1: until EOG or context end
  SamplerParams sampling;
  bool stop_at_eog = true;
  bool print_control = true;           // false: control tokens add nothing to `text`/on_text
  // Receives each newly printable piece of text; return false to stop.
  std::function<bool(std::string_view)> on_text;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (without the stop token)
  std::string text;
  std::string stop_reason;      // "eog", "length", "context", "callback"
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

class Session {
 public:
  Session(Engine& engine, const SessionOptions& opt = {});

  // Appends tokens to the context. `embd` (optional, [n]) overrides the embedding of a token
  // (image features). Returns the logits of the last token [n_vocab].
  const float* eval(const std::vector<int32_t>& tokens, const float* const* embd = nullptr);
  // Appends tokens and calls sink(i, logits) for every position i (for `pocket logits`).
  void eval_all(const std::vector<int32_t>& tokens, const std::function<void(int64_t, const float*)>& sink);
  // One decode step for a single token; no allocation.
  const float* step(int32_t token);

  // `embd` (optional, [prompt.size()]) overrides prompt embeddings, as in eval().
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                          const float* const* embd = nullptr);

  int64_t pos() const { return pos_; }
  int64_t n_ctx() const { return kv_.n_ctx; }
  void reset() { pos_ = 0; }
  const KvCache& kv() const { return kv_; }

 private:
  const float* eval_chunk(const int32_t* tokens, const float* const* embd, int64_t n, int64_t n_logits);
  Engine& engine_;
  SessionOptions opt_;
  KvCache kv_;
  DecoderActivations act_;
  int64_t pos_ = 0;
};

}  // namespace pocket
