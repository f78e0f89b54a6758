// `pocket compare A B [C ...]`: measures the models one after another on the same inputs and
// tells which one ships under the user's constraints. Argument handling lives here; the
// measurements in src/runtime/compare.cpp, the verdict in src/runtime/compare_verdict.cpp,
// the renderers in compare_report_{table,json,html}.cpp. User documentation: docs/compare.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/ranges.h>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "apps/cli/compare_report.h"
#include "core/error.h"
#include "core/timer.h"
#include "runtime/compare_inputs.h"

namespace pocket::cli {

namespace {

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      if (c != std::string::npos) {
        const size_t a = line.find_first_not_of(" \t", c + 1);
        return a == std::string::npos ? "" : line.substr(a);
      }
    }
  }
  return "unknown CPU";
}

// Entries are MODEL or MODEL::MMPROJ; `--mmproj KEY=FILE` binds a projector to the entry whose
// 1-based position or text is KEY; a bare `--mmproj FILE` is accepted with a single model.
std::vector<CompareModelSpec> parse_models(const std::vector<std::string>& entries, const std::vector<std::string>& mmproj) {
  std::vector<CompareModelSpec> out;
  for (const std::string& e : entries) {
    CompareModelSpec s;
    const size_t sep = e.find("::");
    s.spec = sep == std::string::npos ? e : e.substr(0, sep);
    if (sep != std::string::npos) {
      s.mmproj = e.substr(sep + 2);
      POCKET_CHECK(!s.mmproj.empty(), "'{}': empty projector after '::'", e);
    }
    POCKET_CHECK(!s.spec.empty(), "empty model reference in '{}'", e);
    out.push_back(std::move(s));
  }
  for (const std::string& m : mmproj) {
    const size_t eq = m.find('=');
    if (eq == std::string::npos) {
      POCKET_CHECK(out.size() == 1, "--mmproj '{}': with several models write --mmproj N=FILE or MODEL=FILE", m);
      out[0].mmproj = m;
      continue;
    }
    const std::string key = m.substr(0, eq), file = m.substr(eq + 1);
    POCKET_CHECK(!file.empty(), "--mmproj '{}': no file after '='", m);
    int hit = -1;
    for (size_t i = 0; i < out.size(); ++i)
      if (key == std::to_string(i + 1) || key == out[i].spec) hit = static_cast<int>(i);
    POCKET_CHECK(hit >= 0, "--mmproj '{}': '{}' is neither a model position (1..{}) nor a model given", m, key,
                 out.size());
    out[static_cast<size_t>(hit)].mmproj = file;
  }
  return out;
}

}  // namespace

void register_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare", "Measure models side by side on this machine and say which one ships");
  struct Args {
    std::vector<std::string> models, mmproj, needs, scenarios;
    std::string prompts, images, video, json, html, max_ram;
    int threads = 0, runs = 1, max_tokens = 32;
    int64_t n_ctx = 4096;
    double max_ttft = 0, min_tps = 0;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("models", a->models, "Models: GGUF file, checkpoint directory, short name or Hub repo; MODEL::MMPROJ adds a projector")
      ->required();
  cmd->add_option("--mmproj", a->mmproj, "Projector for one model: N=FILE (1-based position) or MODEL=FILE (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--prompts", a->prompts, "Prompt suite, JSON Lines (see docs/compare.md)");
  cmd->add_option("--images", a->images, "Folder of images: one 'Describe this image.' prompt each");
  cmd->add_option("--video", a->video, "Video file: a 'Describe this video.' prompt, and the video latency probe");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--runs", a->runs, "Repetitions of each latency probe (median kept)")->check(CLI::Range(1, 100));
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Tokens generated per answer")->check(CLI::Range(1, 4096));
  cmd->add_option("-c,--ctx-size", a->n_ctx, "Context size per model")->check(CLI::Range(64, 1 << 20));
  cmd->add_option("--max-ram", a->max_ram, "Constraint: peak resident memory, e.g. 2G, 512M");
  cmd->add_option("--max-ttft", a->max_ttft, "Constraint: time to first token in ms (text and every needed media kind)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--min-tokens-per-second,--min-tps", a->min_tps, "Constraint: decode tokens per second")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--needs", a->needs, "Constraint: images, multi-image, video, tools (repeatable or comma list)")
      ->allow_extra_args(false);
  cmd->add_option("--scenario", a->scenarios,
                  "Extra constraint set, e.g. 'max-ram=1G,needs=video+tools,max-ttft=500,min-tps=10' (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--json", a->json, "Write the report as JSON (docs/compare.schema.json)");
  cmd->add_option("--html", a->html, "Write a self-contained HTML report");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress on stderr");
  cmd->callback([a] {
    const std::vector<CompareModelSpec> models = parse_models(a->models, a->mmproj);
    // Constraints are checked before any measurement so a typo costs nothing.
    CompareConstraints base;
    base.name = "default";
    if (!a->max_ram.empty()) base.max_ram_bytes = parse_size(a->max_ram);
    if (a->max_ttft > 0) base.max_ttft_ms = a->max_ttft;
    if (a->min_tps > 0) base.min_tokens_per_second = a->min_tps;
    for (const std::string& n : a->needs)
      for (const std::string& x : parse_needs(n))
        if (std::find(base.needs.begin(), base.needs.end(), x) == base.needs.end()) base.needs.push_back(x);
    std::vector<CompareConstraints> sets = {base};
    for (const std::string& s : a->scenarios) sets.push_back(parse_scenario(s));

    CompareReport report;
    std::vector<std::string> parts;
    if (!a->prompts.empty()) {
      for (auto& p : load_prompts_jsonl(a->prompts)) report.prompts.push_back(std::move(p));
      parts.push_back("prompts");
    }
    if (!a->images.empty()) {
      for (auto& p : prompts_from_image_dir(a->images)) report.prompts.push_back(std::move(p));
      parts.push_back("images");
    }
    if (!a->video.empty()) {
      std::error_code ec;
      POCKET_CHECK(std::filesystem::is_regular_file(a->video, ec), "--video: '{}' is not a file", a->video);
      report.prompts.push_back(prompt_for_video(a->video));
      parts.push_back("video");
    }
    if (report.prompts.empty()) {
      report.prompts = smoke_suite();
      parts.push_back("smoke");
    }
    // Missing media files are reported now rather than as a skipped prompt per model later.
    for (const ComparePrompt& p : report.prompts) {
      std::vector<std::string> files = p.images;
      if (!p.video.empty()) files.push_back(p.video);
      for (const std::string& f : files) {
        std::error_code ec;
        POCKET_CHECK(f.rfind("synthetic:", 0) == 0 || std::filesystem::is_regular_file(f, ec),
                     "prompt '{}': no such file '{}'", p.id, f);
      }
    }
    report.suite = fmt::format("{}", fmt::join(parts, "+"));
    report.runs = a->runs;
    report.max_tokens = a->max_tokens;
    report.threads = a->threads;
    report.created = utc_now_iso();
    report.host = fmt::format("{} ({} hardware threads)", cpu_name(), std::thread::hardware_concurrency());

    CompareOptions opt;
    opt.n_threads = a->threads;
    opt.runs = a->runs;
    opt.max_tokens = a->max_tokens;
    opt.n_ctx = a->n_ctx;
    opt.video_probe = a->video;
    const double t0 = now_seconds();
    if (!a->quiet)
      opt.progress = [t0](const std::string& line) {
        std::fprintf(stderr, "%7.1fs %s\n", now_seconds() - t0, line.c_str());
        std::fflush(stderr);
      };
    report.models = run_compare(models, report.prompts, opt);
    if (std::none_of(report.models.begin(), report.models.end(),
                     [](const ModelMeasurement& m) { return m.error.empty(); })) {
      std::vector<std::string> errors;
      for (const ModelMeasurement& m : report.models) errors.push_back(m.error);
      fail("no model could be measured: {}", fmt::join(errors, "; "));
    }
    for (const CompareConstraints& c : sets) report.verdicts.push_back(decide(report.models, c));

    const std::string table = render_compare_table(report);
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::fflush(stdout);
    if (!a->json.empty()) write_file(a->json, render_compare_json(report));
    if (!a->html.empty()) write_file(a->html, render_compare_html(report));
    if (!a->quiet && (!a->json.empty() || !a->html.empty()))
      std::fprintf(stderr, "report written:%s%s%s%s\n", a->json.empty() ? "" : " ", a->json.c_str(),
                   a->html.empty() ? "" : " ", a->html.c_str());
  });
}

}  // namespace pocket::cli
