// Hugging Face checkpoint folders (config.json + *.safetensors + tokenizer files) turned into
// the GGUF form the loaders in models/ read: names and hyperparameters mapped to llama.cpp's
// GGUF keys, Q/K rows permuted to the adjacent-pair RoPE layout, BF16/FP8 dequantized and
// every matrix quantized to the requested type. The result is a GGUF image in memory
// (Engine::load on a folder) or a GGUF file (`pocket quantize DIR OUT TYPE`).
// One file per architecture (hf_llama.cpp, hf_mistral3.cpp; vocabulary hf_tokenizer.cpp); this
// file holds what they share, and what the vision families' converters use
// (vision/checkpoint.h).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_stream.h"
#include "io/gguf_writer.h"
#include "io/safetensors.h"
#include "quant/types.h"

namespace pocket {

class ThreadPool;

struct ConvertOptions {
  DType quant = DType::Q8_0;  // type of the 2-D weights; 1-D tensors stay F32
  int n_threads = 0;          // 0 = all cores
};

// True when `path` is a directory (checkpoint folders are the only directories Pocket loads).
bool is_checkpoint_dir(const std::string& path);

// Converts the checkpoint into an in-memory GGUF image named after the folder.
std::unique_ptr<GgufFile> load_checkpoint(const std::string& dir, const ConvertOptions& opt);


// `pocket quantize`: IN is a GGUF file or a checkpoint folder, OUT a GGUF file. Matrices go to
// `type` (or the nearest type whose block fits their rows, as llama.cpp falls back), 1-D
// tensors (norms) to F32. Throws pocket::Error on bad input.
void quantize_model(const std::string& in, const std::string& out, DType type, int n_threads = 0);

// The type a matrix with rows of n_in elements gets when `want` is requested: `want` when its
// block divides the row, else llama.cpp's fallback (ref: llama.cpp src/llama-quant.cpp,
// llama_tensor_get_type: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, ...), else F16.
DType matrix_type_for(DType want, int64_t n_in);

// ---- shared by the per-architecture converters ----

// Mutable state of one conversion.
struct HfConversion {
  std::string dir;
  nlohmann::json config;  // config.json
  nlohmann::json text;    // the text model's config (config itself or config.text_config)
  std::unique_ptr<SafetensorsCheckpoint> st;
  GgufWriter meta;        // metadata, serialized once every key is set
  GgufStreamWriter out;
  DType quant = DType::Q8_0;
  ThreadPool* pool = nullptr;
  std::vector<int64_t> fp8_block;  // quantization_config.weight_block_size ([rows, cols]) or empty
  bool has_tokenizer = false;      // tokenizer.ggml.* written (else Engine uses tokenizer.json)

  // A HF matrix [n_out, n_in] as GGUF `name` [n_in, n_out] of the conversion's matrix type.
  // permute_heads > 0 reorders each head's rows from rotate_half to adjacent pairs.
  void add_matrix(const std::string& name, const std::string& hf_name, int64_t n_in, int64_t n_out,
                  int64_t permute_heads = 0);
  // A HF vector [n] as an F32 GGUF vector.
  void add_vector(const std::string& name, const std::string& hf_name, int64_t n);
  bool has(const std::string& hf_name) const { return st->find(hf_name) != nullptr; }
};

// Integer / float / string fields of a config object, with clear errors.
int64_t cfg_int(const nlohmann::json& j, const char* key, const std::string& where);
int64_t cfg_int_or(const nlohmann::json& j, const char* key, int64_t def);
double cfg_float_or(const nlohmann::json& j, const char* key, double def);

// Writes `<arch>.*` hyperparameters and binds the Llama-family tensors found under `prefix`
// (e.g. "model." or "model.text_model."), with lm_head at `lm_head` (absent = tied).
// Returns the number of vocabulary rows of the embedding.
int64_t convert_llama_family(HfConversion& c, const std::string& arch, const std::string& prefix,
                             const std::string& lm_head);

// Tokenizer (tokenizer.json, tokenizer_config.json, chat template files) as tokenizer.ggml.*
// keys, padded to n_vocab rows; generation_config.json's end-of-generation ids other than the
// tokenizer's EOS become tokenizer.ggml.eot_token_id. Returns false (writing nothing but the chat template) when the
// tokenizer has no GGUF form Pocket can reproduce; the folder's tokenizer.json is used then.
bool convert_hf_tokenizer(const std::string& dir, const nlohmann::json& config, int64_t n_vocab, GgufWriter& w);

// Adds HF tensor `hf` (any rank) as GGUF `name` in `type` (F16 or F32), dims = the HF shape
// reversed (same memory order); the shape must be `shape`. permute_heads > 0: 2-D Q/K rows go
// from rotate_half to adjacent pairs as in HfConversion::add_matrix.
void add_tensor_as(GgufStreamWriter& out, const SafetensorsCheckpoint& st, const std::string& name, const std::string& hf,
                   const std::vector<int64_t>& shape, DType type, int64_t permute_heads = 0);
// Parses a JSON file; an absent file is an empty object.
nlohmann::json read_json_or_empty(const std::string& path);

// config.json's architectures[0], or "" when absent.
std::string first_architecture(const nlohmann::json& config);

// Per-architecture entry points (hf_llama.cpp, hf_mistral3.cpp): `matches` looks at config.json,
// `convert` fills the conversion.
bool hf_llama_matches(const nlohmann::json& config);
void hf_llama_convert(HfConversion& c);
bool hf_mistral3_matches(const nlohmann::json& config);
void hf_mistral3_convert(HfConversion& c);

}  // namespace pocket
