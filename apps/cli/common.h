// Helpers shared by CLI subcommands: model loading options, whole-file I/O and id lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/engine.h"

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

// A whole file as bytes / a file written whole; throw pocket::Error naming the path.
std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view bytes);

// Parses "1,2,3" into ids; throws pocket::Error on junk.
std::vector<int32_t> parse_id_list(const std::string& s);

}  // namespace pocket::cli
