// `mistral3` architecture (Ministral 3): the Llama block plus static YaRN frequencies with
// magnitude 1.0 and a position-dependent query temperature; head_dim * heads may differ
// from d_model; tied embeddings. Spec: shared/docs/ministral-spec.md §1.2–1.4;
// ref: llama.cpp src/models/mistral3.cpp, transformers models/ministral3/modular_ministral3.py.
#include "core/error.h"
#include "io/gguf.h"
#include "models/registry.h"

namespace pocket {

std::unique_ptr<DecoderModel> load_mistral3(const GgufFile& f) {
  TextHParams hp = read_llama_family_hparams(f, "mistral3");
  hp.attn_temp_beta = static_cast<float>(f.get_float_or("mistral3.attention.temperature_scale", 0.0));
  if (hp.attn_temp_beta != 0.0f) {
    // The floor length is the original (pre-YaRN) context, as llama.cpp's n_ctx_orig_yarn.
    hp.attn_temp_floor = hp.rope.n_ctx_orig > 0 ? hp.rope.n_ctx_orig : hp.n_ctx_train;
    POCKET_CHECK(hp.attn_temp_floor > 0, "{}: query temperature needs an original context length", f.path());
  }
  DecoderWeights w = bind_llama_family_weights(f, hp);
  return std::make_unique<DecoderModel>(std::move(hp), std::move(w));
}

}  // namespace pocket
