// `pocket tokenize`: prints the token ids of a text as a one-line JSON array, from a GGUF model's
// vocabulary (-m) or a Hugging Face tokenizer.json (--tokenizer). No BOS is added; special tokens
// written in the text are matched. --batch FILE.json (an array of strings) prints an array of arrays.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

struct TokenizeOptions {
  std::string model, tokenizer, prompt, batch;
  CLI::Option* prompt_opt = nullptr;
  CLI::Option* batch_opt = nullptr;
};

[[noreturn]] void cli_fail(const std::string& msg) {
  std::cerr << "pocket tokenize: " << msg << "\n";
  throw Error(msg);
}

std::unique_ptr<Tokenizer> load_tokenizer(const TokenizeOptions& o) {
  if (!o.tokenizer.empty()) return Tokenizer::from_tokenizer_json(o.tokenizer);
  const auto file = GgufFile::open(o.model);
  return Tokenizer::from_gguf(*file);  // the tokenizer copies what it needs
}

std::vector<std::string> read_batch(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open batch file '{}'", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("batch file '{}' is not valid JSON: {}", path, e.what());
  }
  if (!j.is_array()) fail("batch file '{}' must hold a JSON array of strings", path);
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) fail("batch file '{}' must hold a JSON array of strings", path);
    out.push_back(e.get<std::string>());
  }
  return out;
}

void run_tokenize(const TokenizeOptions& o) {
  if (o.model.empty() == o.tokenizer.empty()) cli_fail("give exactly one of -m MODEL.gguf or --tokenizer tokenizer.json");
  const bool has_prompt = o.prompt_opt->count() > 0, has_batch = o.batch_opt->count() > 0;
  if (has_prompt == has_batch) cli_fail("give exactly one of -p TEXT or --batch FILE.json");
  try {
    const auto tok = load_tokenizer(o);
    if (has_prompt) {
      std::cout << nlohmann::json(tok->encode(o.prompt, false, true)).dump() << "\n";
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& text : read_batch(o.batch)) all.push_back(tok->encode(text, false, true));
      std::cout << all.dump() << "\n";
    }
  } catch (const Error& e) {
    cli_fail(e.what());
  }
}

}  // namespace
}  // namespace pocket

// Global namespace, as apps/cli/commands.h declares it.
void register_tokenize(CLI::App& app) {
  using pocket::TokenizeOptions;
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as JSON");
  cmd->add_option("-m,--model", opts->model, "GGUF model whose vocabulary to use");
  cmd->add_option("--tokenizer", opts->tokenizer, "Hugging Face tokenizer.json to use instead of a GGUF");
  opts->prompt_opt = cmd->add_option("-p,--prompt", opts->prompt, "Text to tokenize");
  opts->batch_opt = cmd->add_option("--batch", opts->batch, "JSON file holding an array of strings");
  cmd->callback([opts]() { pocket::run_tokenize(*opts); });
}
