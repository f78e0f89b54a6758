// Renderers of a `pocket compare` report: terminal table, JSON (docs/compare.schema.json) and
// a self-contained HTML page. The measurement and the verdicts are computed in src/runtime.
#pragma once

#include <string>
#include <vector>

#include "runtime/compare.h"
#include "runtime/compare_verdict.h"

namespace pocket::cli {

struct CompareReport {
  std::vector<ModelMeasurement> models;
  std::vector<ComparePrompt> prompts;
  std::vector<CompareVerdict> verdicts;  // [0] = the command-line constraints, then each --scenario
  std::string suite;                     // "smoke", or what built it ("prompts", "images", "video", ...)
  int runs = 1;
  int max_tokens = 0;
  int threads = 0;                       // as asked (0 = all cores)
  std::string created;                   // ISO 8601 UTC
  std::string host;                      // CPU model name and core count
};

// A model's standing in a verdict: "ships", "#2", ..., or "out".
std::string verdict_standing(const CompareVerdict& v, size_t model);

// Side-by-side table (metrics as rows, models as columns) followed by the verdicts.
std::string render_compare_table(const CompareReport& r);
// The JSON document described by docs/compare.schema.json (pretty-printed).
std::string render_compare_json(const CompareReport& r);
// One self-contained HTML page: no scripts, styles inline, charts as inline SVG.
std::string render_compare_html(const CompareReport& r);

}  // namespace pocket::cli
