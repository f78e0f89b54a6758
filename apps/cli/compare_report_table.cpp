// Terminal rendering of a `pocket compare` report: metrics as rows, models side by side as
// columns (so two to a handful of models fit an 80-120 column terminal), then each verdict.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "apps/cli/compare_report.h"

namespace pocket::cli {

namespace {

std::string num(double v) {
  if (v >= 1000) return fmt::format("{:.0f}", v);
  if (v >= 100) return fmt::format("{:.1f}", v);
  if (v >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}
std::string ms(const std::optional<double>& v) { return v ? num(*v) + " ms" : "-"; }
std::string yes(bool b) { return b ? "yes" : "no"; }

// Display width of UTF-8 text (code points; good enough for labels and numbers).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }

}  // namespace

std::string verdict_standing(const CompareVerdict& v, size_t model) {
  for (const ModelVerdict& mv : v.models)
    if (mv.model == model) return !mv.eligible ? "out" : mv.rank == 1 ? "ships" : fmt::format("#{}", mv.rank);
  return "";
}

std::string render_compare_table(const CompareReport& r) {
  std::vector<const ModelMeasurement*> ok;
  for (const ModelMeasurement& m : r.models)
    if (m.error.empty()) ok.push_back(&m);
  using Row = std::pair<std::string, std::vector<std::string>>;
  std::vector<Row> rows;
  auto row = [&](const std::string& name, auto&& cell) {
    std::vector<std::string> cells;
    for (const ModelMeasurement* m : ok) cells.push_back(cell(*m));
    rows.push_back({name, std::move(cells)});
  };
  row("", [](const ModelMeasurement& m) { return m.label; });
  if (!r.verdicts.empty())
    row("verdict (" + r.verdicts[0].constraints.name + ")",
        [&](const ModelMeasurement& m) { return verdict_standing(r.verdicts[0], static_cast<size_t>(&m - r.models.data())); });
  row("architecture", [](const ModelMeasurement& m) {
    return m.caps.vision_family.empty() ? m.arch : m.arch + " + " + m.caps.vision_family;
  });
  row("file size (model + mmproj)", [](const ModelMeasurement& m) {
    return m.mmproj_bytes == 0 ? format_size_iec(m.model_bytes)
                                 : format_size_iec(m.model_bytes) + " + " + format_size_iec(m.mmproj_bytes);
  });
  row("load time", [](const ModelMeasurement& m) { return num(m.load_ms) + " ms"; });
  row("peak resident memory", [](const ModelMeasurement& m) { return format_size_iec(m.peak_rss_bytes); });
  row("KV cache per token", [](const ModelMeasurement& m) { return format_size_iec(m.kv_bytes_per_token); });
  row("TTFT text", [](const ModelMeasurement& m) { return num(m.ttft_text_ms) + " ms"; });
  row("TTFT one tile", [](const ModelMeasurement& m) { return ms(m.ttft_tile_ms); });
  row("TTFT 1920x1080 image", [](const ModelMeasurement& m) { return ms(m.ttft_image_ms); });
  row("TTFT video", [](const ModelMeasurement& m) { return ms(m.ttft_video_ms); });
  row("prefill", [](const ModelMeasurement& m) { return num(m.prefill_tokens_per_second) + " tok/s"; });
  row("decode", [](const ModelMeasurement& m) { return num(m.decode_tokens_per_second) + " tok/s"; });
  row("image encode per tile", [](const ModelMeasurement& m) { return ms(m.encode_ms_per_tile); });
  row("CPU time per answer", [](const ModelMeasurement& m) {
    return m.cpu_seconds_per_answer > 0 ? num(m.cpu_seconds_per_answer) + " s" : "-";
  });
  row("quality (mean score)", [](const ModelMeasurement& m) {
    return m.quality ? fmt::format("{:.3f} (n={})", *m.quality, m.n_scored) : "-";
  });
  row("exact / contains / ANLS", [](const ModelMeasurement& m) {
    return m.quality ? fmt::format("{:.2f} / {:.2f} / {:.2f}", *m.exact, *m.contains, *m.anls) : "-";
  });
  row("images / multi-image", [](const ModelMeasurement& m) { return yes(m.caps.images) + " / " + yes(m.caps.multi_image); });
  row("video / tools", [](const ModelMeasurement& m) { return yes(m.caps.video) + " / " + yes(m.caps.tools); });
  row("context length", [](const ModelMeasurement& m) { return fmt::format("{}", m.caps.context_length); });
  row("license", [](const ModelMeasurement& m) { return m.caps.license; });

  size_t w0 = 0;
  std::vector<size_t> w(ok.size(), 0);
  for (const Row& rw : rows) {
    w0 = std::max(w0, width(rw.first));
    for (size_t i = 0; i < rw.second.size(); ++i) w[i] = std::max(w[i], width(rw.second[i]));
  }
  std::string out;
  for (size_t k = 0; k < rows.size(); ++k) {
    std::string line = pad(rows[k].first, w0);
    for (size_t i = 0; i < ok.size(); ++i) line += "  " + pad(rows[k].second[i], w[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (k == 0) {
      size_t total = w0;
      for (size_t x : w) total += 2 + x;
      out += std::string(total, '-') + "\n";
    }
  }
  for (const ModelMeasurement& m : r.models) {
    if (!m.error.empty()) out += fmt::format("{}: failed: {}\n", m.label, m.error);
    for (const std::string& n : m.notes) out += fmt::format("{}: {}\n", m.label, n);
  }
  for (const CompareVerdict& v : r.verdicts) {
    out += fmt::format("\nverdict [{}; constraints: {}]\n  {}\n", v.constraints.name, v.constraints.describe(), v.summary);
    for (const ModelVerdict& mv : v.models) {
      const std::string& label = r.models[mv.model].label;
      if (mv.eligible) out += fmt::format("  {}. {}\n", mv.rank, label);
      else out += fmt::format("  out: {}: {}\n", label, fmt::join(mv.violations, "; "));
    }
  }
  return out;
}

}  // namespace pocket::cli
