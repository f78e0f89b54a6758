// Architecture registry: general.architecture -> loader. Adding an architecture is one file
// in models/ plus one line in registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/decoder.h"

namespace pocket {

class GgufFile;

// Throws pocket::Error for unknown architectures or inconsistent files.
std::unique_ptr<DecoderModel> load_decoder(const GgufFile& f);

// Per-architecture loaders (models/<arch>.cpp).
std::unique_ptr<DecoderModel> load_llama(const GgufFile& f);
std::unique_ptr<DecoderModel> load_mistral3(const GgufFile& f);

// Shared by the Llama-family loaders: reads `<arch>.*` hyperparameters common to all of them
// and binds the standard tensor names (token_embd, blk.N.attn_q, ..., output_norm, output).
TextHParams read_llama_family_hparams(const GgufFile& f, const std::string& arch);
DecoderWeights bind_llama_family_weights(const GgufFile& f, TextHParams& hp);

}  // namespace pocket
