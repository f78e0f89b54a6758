// Helpers shared by CLI subcommands: model loading options, whole-file I/O and id lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/engine.h"
#include "vision/vision_encoder.h"

namespace pocket::cli {

struct ModelArgs {
  std::string model;
  int threads = 0;
  bool ref_kernels = false;  // selects the scalar reference kernels for the whole process
  bool no_repack = false;
  std::string quant = "Q8_0";  // checkpoint folders: weight type at load
  std::string chat_template_file;  // replaces the model's chat template
  void add(CLI::App* cmd, bool with_ref_kernels = true);
  std::unique_ptr<Engine> load() const;
};

// How much of each image to encode: --image-max-tiles, --no-image-splitting, --image-detail.
// The default is the reference processor's (transformers-exact tiling).
struct ImageDetailArgs {
  int max_tiles = 0;
  bool no_splitting = false;
  std::string detail = "auto";
  void add(CLI::App* cmd);
  // Throws pocket::Error naming the flag the model's family cannot honour.
  ImageDetail resolve(const VisionEncoder& enc) const;
};

// A whole file as bytes / a file written whole; throw pocket::Error naming the path.
std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view bytes);

// Parses "1,2,3" into ids; throws pocket::Error on junk.
std::vector<int32_t> parse_id_list(const std::string& s);

}  // namespace pocket::cli
