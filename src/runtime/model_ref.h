// Model references as users type them: a GGUF file, a Hugging Face checkpoint directory, a
// short name of a seed model (`smolvlm2-256m`, ...) or a Hub repository `owner/name[:QUANT]`.
// resolve_model() turns one into local paths, pulling into the model store on first use
// (runtime/model_store.h; offline also via POCKET_OFFLINE / HF_HUB_OFFLINE).
// Every command that takes `-m` (run, serve, compare, bench, ...) goes through it.
#pragma once

#include <string>

namespace pocket {

struct ResolveOptions {
  bool offline = false;   // never touch the network; fail when the model is not in the store
  bool quiet = false;     // no progress bar
};

struct ResolvedModel {
  std::string model_path;   // a .gguf file or a checkpoint directory (config.json + *.safetensors)
  std::string mmproj_path;  // the vision projector GGUF when the store has one; empty otherwise
};

// Throws pocket::Error when the reference names nothing that exists (and cannot be pulled).
ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& opt = {});

}  // namespace pocket
