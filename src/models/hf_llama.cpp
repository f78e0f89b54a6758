// Hugging Face `llama` family checkpoints -> GGUF `llama`: LlamaForCausalLM (SmolLM2),
// MistralForCausalLM without sliding windows (llama.cpp converts those to `llama` too), and the
// text model of SmolVLM/Idefics3 checkpoints (weights under model.text_model.*, lm_head at the
// top; the vision tower and connector are left out). ref: llama.cpp convert_hf_to_gguf.py
// LlamaModel, SmolVLMModel; transformers models/smolvlm/modeling_smolvlm.py (weight names).
#include "core/error.h"
#include "models/hf_checkpoint.h"

namespace pocket {

namespace {

using json = nlohmann::json;


bool is_vlm(const json& config) {
  const std::string arch = first_architecture(config);
  const std::string mt = config.value("model_type", std::string());
  return arch == "SmolVLMForConditionalGeneration" || arch == "Idefics3ForConditionalGeneration" || mt == "smolvlm" ||
         mt == "idefics3";
}

}  // namespace

bool hf_llama_matches(const json& config) {
  const std::string arch = first_architecture(config);
  const std::string mt = config.value("model_type", std::string());
  return arch == "LlamaForCausalLM" || arch == "MistralForCausalLM" || mt == "llama" || mt == "mistral" ||
         is_vlm(config);
}

void hf_llama_convert(HfConversion& c) {
  std::string prefix = "model.";
  if (is_vlm(c.config)) {
    POCKET_CHECK(c.config.contains("text_config") && c.config["text_config"].is_object(),
                 "checkpoint '{}': SmolVLM/Idefics3 config has no text_config", c.dir);
    c.text = c.config["text_config"];
    const std::string tm = c.text.value("model_type", std::string("llama"));
    POCKET_CHECK(tm == "llama", "checkpoint '{}': text model type '{}' is not supported (llama is)", c.dir, tm);
    prefix = "model.text_model.";
  } else {
    c.text = c.config;
  }
  const int64_t n_vocab = convert_llama_family(c, "llama", prefix, "lm_head.weight");
  c.has_tokenizer = convert_hf_tokenizer(c.dir, c.config, n_vocab, c.meta);
}

}  // namespace pocket
