// `pocket template`: renders a chat template with a JSON context, exactly as transformers
// would. Single mode prints the rendering (no newline added); --batch renders many cases
// and prints a JSON array of {"rendered": ...} / {"error": ...}.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/cli/common.h"
#include "chat/chat.h"
#include "core/error.h"

namespace pocket {
namespace {

nlohmann::ordered_json read_json(const std::string& path) {
  auto j = nlohmann::ordered_json::parse(cli::read_file(path), nullptr, false);
  if (j.is_discarded()) fail("'{}' is not valid JSON", path);
  return j;
}

struct TemplateOptions {
  std::string template_path;
  std::string context_path;
  std::string batch_path;
  std::string template_dir;
  std::string now;
};

// Relative template paths in a batch resolve against --template-dir, else the working
// directory, else the directory of the cases file.
std::string resolve(const TemplateOptions& o, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.is_absolute()) return path;
  if (!o.template_dir.empty()) return (fs::path(o.template_dir) / p).string();
  if (fs::exists(p)) return path;
  return (fs::path(o.batch_path).parent_path() / p).string();
}

void run_batch(const TemplateOptions& o, const ChatRenderOptions& ropts) {
  const auto cases = read_json(o.batch_path);
  if (!cases.is_array()) fail("'{}' must hold a JSON array of {{template, context}} cases", o.batch_path);
  auto results = nlohmann::ordered_json::array();
  for (const auto& c : cases) {
    nlohmann::ordered_json r = nlohmann::ordered_json::object();
    try {
      if (!c.is_object() || !c.contains("template") || !c["template"].is_string()) {
        fail("each case needs a string 'template'");
      }
      const auto ctx = c.contains("context") ? c["context"] : nlohmann::ordered_json::object();
      r["rendered"] = ChatTemplate(cli::read_file(resolve(o, c["template"].get<std::string>()))).render(ctx, ropts);
    } catch (const Error& e) {
      r = nlohmann::ordered_json::object();
      r["error"] = e.what();
    }
    results.push_back(std::move(r));
  }
  std::cout << results.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

void run_template(const TemplateOptions& o) {
  ChatRenderOptions ropts;
  if (!o.now.empty()) ropts.now = ChatClock::parse(o.now);
  if (!o.batch_path.empty()) {
    run_batch(o, ropts);
    return;
  }
  if (o.template_path.empty()) fail("template: --template FILE (or --batch CASES.json) is required");
  const auto ctx = o.context_path.empty() ? nlohmann::ordered_json::object() : read_json(o.context_path);
  const std::string out = ChatTemplate(cli::read_file(o.template_path)).render(ctx, ropts);
  std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  std::cout.flush();
}

}  // namespace
}  // namespace pocket

// Global namespace, like the other cmd_<name>.cpp registrations in apps/cli/commands.h.
void register_template(CLI::App& app) {
  auto opts = std::make_shared<pocket::TemplateOptions>();
  CLI::App* cmd = app.add_subcommand("template", "Render a chat template (Jinja) with a JSON context");
  cmd->add_option("--template", opts->template_path, "Template file (.jinja)");
  cmd->add_option("--context", opts->context_path, "JSON object with the template variables");
  cmd->add_option("--batch", opts->batch_path, "JSON array of {template: path, context: {...}} cases");
  cmd->add_option("--template-dir", opts->template_dir, "Directory for relative template paths in --batch");
  cmd->add_option("--now", opts->now, "Clock for strftime_now, e.g. 2026-11-24T12:00:00 (default: local time)");
  cmd->callback([opts]() { pocket::run_template(*opts); });
}
