// Hugging Face Ministral 3 checkpoints -> GGUF `mistral3`: Mistral3ForConditionalGeneration
// (text under model.language_model.* in transformers v5, language_model.model.* in v4) and
// text-only Ministral3ForCausalLM. On top of the Llama block: static YaRN from
// rope_parameters and the position-dependent query temperature llama_4_scaling_beta.
// Spec: shared/docs/ministral-spec.md §1.1-1.5, §4.2; ref: llama.cpp conversion/mistral3.py,
// transformers models/ministral3/configuration_ministral3.py.
#include "core/error.h"
#include "models/hf_checkpoint.h"

namespace pocket {

namespace {

using json = nlohmann::json;


}  // namespace

bool hf_mistral3_matches(const json& config) {
  const std::string arch = first_architecture(config);
  const std::string mt = config.value("model_type", std::string());
  return arch == "Mistral3ForConditionalGeneration" || arch == "Ministral3ForCausalLM" || mt == "mistral3" ||
         mt == "ministral3";
}

void hf_mistral3_convert(HfConversion& c) {
  std::string prefix = "model.", lm_head = "lm_head.weight";
  const bool multimodal = c.config.value("model_type", std::string()) == "mistral3" ||
                          first_architecture(c.config) == "Mistral3ForConditionalGeneration";
  if (multimodal) {
    POCKET_CHECK(c.config.contains("text_config") && c.config["text_config"].is_object(),
                 "checkpoint '{}': Mistral3 config has no text_config", c.dir);
    c.text = c.config["text_config"];
    const std::string tm = c.text.value("model_type", std::string("ministral3"));
    POCKET_CHECK(tm == "ministral3" || tm == "mistral",
                 "checkpoint '{}': text model type '{}' is not supported (ministral3 or mistral)", c.dir, tm);
    if (c.has("model.language_model.embed_tokens.weight")) {
      prefix = "model.language_model.";
    } else {
      prefix = "language_model.model.";  // transformers v4 layout
      if (!c.has(lm_head)) lm_head = "language_model.lm_head.weight";
    }
  } else {
    c.text = c.config;
  }
  const int64_t n_vocab = convert_llama_family(c, "mistral3", prefix, lm_head);
  // Query temperature: HF v5 keeps beta in rope_parameters, older configs at the top level
  // or as a llama_4_scaling object (the Mistral-native name).
  double beta = 0.0;
  if (c.text.contains("rope_parameters") && c.text["rope_parameters"].is_object())
    beta = cfg_float_or(c.text["rope_parameters"], "llama_4_scaling_beta", 0.0);
  if (beta == 0.0) beta = cfg_float_or(c.text, "llama_4_scaling_beta", 0.0);
  if (beta == 0.0 && c.text.contains("llama_4_scaling") && c.text["llama_4_scaling"].is_object())
    beta = cfg_float_or(c.text["llama_4_scaling"], "beta", 0.0);
  if (beta != 0.0) c.meta.set_f32("mistral3.attention.temperature_scale", static_cast<float>(beta));
  c.has_tokenizer = convert_hf_tokenizer(c.dir, c.config, n_vocab, c.meta);
}

}  // namespace pocket
