// Helpers shared by CLI subcommands: model loading options and prompt tokenization.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/engine.h"

namespace pocket::cli {

struct ModelArgs {
  std::string model;
  int threads = 0;
  bool ref_kernels = false;
  bool no_repack = false;
  std::string quant = "Q8_0";  // checkpoint folders: weight type at load
  void add(CLI::App* cmd, bool with_ref_kernels = true);
  std::unique_ptr<Engine> load() const;
};

// Renders the chat template (the model's tokenizer.chat_template, or template_file) for a
// system message (optional) and one user turn, with the generation prompt added.
// `media` parts (their types, e.g. "video", "image") come before the text, in order.
// `template_text` (if non-empty) is used instead of the file/model template.
std::string render_chat_prompt(const Engine& engine, const std::string& template_file, const std::string& system,
                               const std::string& user, const std::vector<std::string>& media = {},
                               const std::string& template_text = "");

// render_chat_prompt, plus where the caller's text (system, user) sits in the rendering, so
// that tokenize_chat_prompt (chat/prompt_tokens.h) keeps it literal for Tekken models.
struct RenderedChat {
  std::string text;
  std::vector<TextSpan> literal;
};
RenderedChat render_chat_prompt_literal(const Engine& engine, const std::string& template_file,
                                        const std::string& system, const std::string& user,
                                        const std::vector<std::string>& media = {},
                                        const std::string& template_text = "");

// Parses "1,2,3" into ids; throws pocket::Error on junk.
std::vector<int32_t> parse_id_list(const std::string& s);

}  // namespace pocket::cli
