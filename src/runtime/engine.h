// Engine = what is shared by every conversation on one model: the mapped file, the bound
// weights, the tokenizer and the thread pool. Session = one conversation: KV cache,
// activations, position; it generates through runtime/generation.h, the one generation
// loop (the server's Scheduler multiplexes the same Generation over batched forward calls).
// The raw GGUF stays inside: callers read the model's metadata through typed accessors.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "io/gguf.h"
#include "model/decoder.h"
#include "runtime/generation.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

struct EngineOptions {
  int n_threads = 0;          // 0 = all cores
  // Keep every weight in its file layout (memory-mapped only). Needed with the scalar
  // reference kernels, which the process selects (kernels::set_isa, kernels/dispatch.h).
  bool no_repack = false;
  DType quant = DType::Q8_0;  // checkpoint folders: type their matrices are quantized to at load
  std::string chat_template;  // non-empty: used instead of the file's tokenizer.chat_template
};

class Engine {
 public:
  // Throws pocket::Error on unreadable or unsupported files. `path` is a GGUF file or a Hugging
  // Face checkpoint folder (converted in memory, models/hf_checkpoint.h).
  static std::unique_ptr<Engine> load(const std::string& gguf_path, const EngineOptions& opt = {});

  // Metadata read once at load (GGUF general.* and tokenizer.chat_template).
  struct Metadata {
    std::string path;           // as given to load()
    std::string name;           // general.name ("" when absent)
    std::string license;        // general.license ("" when absent)
    std::string chat_template;  // tokenizer.chat_template ("" when absent)
  };
  const Metadata& metadata() const { return meta_; }
  const std::string& chat_template() const { return meta_.chat_template; }
  // The model file as loaded (a checkpoint folder is converted to an in-memory GGUF), for
  // inspection by tests and tools; the request path reads only the accessors above.
  const GgufFile& file() const { return *file_; }
  const DecoderModel& model() const { return *model_; }
  const TextHParams& hparams() const { return model_->hparams(); }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const TokenPieces& token_pieces() const { return *pieces_; }
  ThreadPool& pool() { return *pool_; }
  double load_seconds() const { return load_seconds_; }

 private:
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<DecoderModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<TokenPieces> pieces_;
  std::unique_ptr<ThreadPool> pool_;
  Metadata meta_;
  double load_seconds_ = 0;
};

// The one context rule: `requested` positions (<= 0: the training context), capped by the
// model's training context.
int64_t context_size(const TextHParams& hp, int64_t requested);
// The one prompt check: not empty, and leaves room for at least one generated token.
void check_prompt_fits(size_t n_prompt, int64_t n_ctx);

// The one prefill loop: runs n tokens (embedding rows `embd` override image positions; may be
// null) into `kv` from position pos0, n_batch tokens per forward call. Returns the logits of
// the last token [n_vocab] (in act.logits). With `all_logits`, every position's logits are
// computed and handed to all_logits(i, row) batch by batch (act must hold n_batch logit rows).
using LogitSink = std::function<void(int64_t, const float*)>;
const float* prefill(const Engine& engine, const int32_t* tokens, const float* const* embd, int64_t n, int64_t pos0,
                     int64_t n_batch, KvCache& kv, DecoderActivations& act, ThreadPool& pool,
                     const LogitSink& all_logits = {});

struct SessionOptions {
  int64_t n_ctx = 4096;     // capped by the model's training context
  int64_t n_batch = 256;    // tokens per forward call during prefill
  // Threads the session computes on; null = the engine's. A ThreadPool runs one job at a
  // time, so sessions used concurrently on different threads each bring their own.
  ThreadPool* pool = nullptr;
};

struct GenerateOptions : GenerationParams {
  // Receives each newly printable piece of text; return false to stop ("cancelled").
  std::function<bool(std::string_view)> on_text;
  // Set from another thread to stop: read before the prefill and before every decode step
  // ("cancelled"; a prefill already running finishes first).
  const std::atomic<bool>* cancel = nullptr;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (without the stop token)
  std::string text;
  std::string stop_reason;      // finish_reason_name(): "eog", "stop", "length", "context", "cancelled"
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
  ThreadPool& pool() { return *opt_.pool; }

 private:
  Engine& engine_;
  SessionOptions opt_;  // pool: the one the session computes on (never null)
  KvCache kv_;
  DecoderActivations act_;
  int64_t pos_ = 0;
};

}  // namespace pocket
