// Helpers shared by CLI subcommands: model loading options and id lists.
#pragma once

#include <string>
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
  void add(CLI::App* cmd, bool with_ref_kernels = true);
  std::unique_ptr<Engine> load() const;
};

// Parses "1,2,3" into ids; throws pocket::Error on junk.
std::vector<int32_t> parse_id_list(const std::string& s);

}  // namespace pocket::cli
