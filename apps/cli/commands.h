// Subcommand registration for the `pocket` CLI: each cmd_<name>.cpp adds one subcommand.
#pragma once

#include <CLI/CLI.hpp>

namespace pocket::cli {

void register_run(CLI::App& app);
void register_info(CLI::App& app);
void register_logits(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);
void register_quantize(CLI::App& app);
void register_store(CLI::App& app);  // pull, list, rm
void register_compare(CLI::App& app);

}  // namespace pocket::cli

// Subcommands defined in the global namespace by their own cmd_<name>.cpp.
void register_tokenize(CLI::App& app);
void register_encode_image(CLI::App& app);
void register_template(CLI::App& app);
void register_preprocess(CLI::App& app);
void register_video_plan(CLI::App& app);
