// Self-contained HTML rendering of a `pocket compare` report: no scripts, no external styles,
// fonts or images (the page must open offline and from a file:// URL), charts as inline SVG.
// Everything that comes from a model, a file name or the user's prompts is HTML-escaped.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "apps/cli/compare_report.h"

namespace pocket::cli {

namespace {

// Escapes text for element content and quoted attribute values. Invalid UTF-8 and control
// characters (model output can hold anything) become U+FFFD / are dropped so the page parses.
std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '&': o += "&amp;"; continue;
      case '<': o += "&lt;"; continue;
      case '>': o += "&gt;"; continue;
      case '"': o += "&quot;"; continue;
      case '\'': o += "&#39;"; continue;
      default: break;
    }
    if (c < 0x20 && c != '\n' && c != '\t') continue;
    if (c < 0x80) {
      o += static_cast<char>(c);
      continue;
    }
    const int len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      o += "\xEF\xBF\xBD";
      continue;
    }
    o.append(s, i, static_cast<size_t>(len));
    i += static_cast<size_t>(len) - 1;
  }
  return o;
}

std::string num(double v) {
  if (v >= 1000) return fmt::format("{:.0f}", v);
  if (v >= 100) return fmt::format("{:.1f}", v);
  if (v >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

const char* const kColors[] = {"#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00"};

struct Bar {
  std::string label;
  std::optional<double> value;
  size_t color;
};

// Long labels are cut (on a UTF-8 boundary) so they fit the chart's label column; the full
// label stays in a <title> tooltip.
std::string short_label(const std::string& s) {
  size_t cps = 0, cut = std::string::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (cps == 23) cut = i;
    ++cps;
  }
  return cps <= 25 ? s : s.substr(0, cut) + "\u2026";
}

// One horizontal bar chart; models without the value get an "n/a" row instead of a bar.
std::string bar_chart(const std::string& id, const std::string& title, const std::string& unit, bool lower_better,
                      const std::vector<Bar>& bars) {
  const int label_w = 160, bar_w = 260, row_h = 26, top = 8;
  const int h = top + row_h * static_cast<int>(bars.size()) + 8;
  double vmax = 0;
  for (const Bar& b : bars)
    if (b.value) vmax = std::max(vmax, *b.value);
  std::string s = fmt::format("<figure class=\"chart\" id=\"chart-{}\"><figcaption>{} <span class=\"hint\">({}; {} is better)</span></figcaption>\n",
                              esc(id), esc(title), esc(unit), lower_better ? "lower" : "higher");
  s += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n",
                   label_w + bar_w + 110, h, label_w + bar_w + 110, h, esc(title));
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = top + row_h * static_cast<int>(i);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"lbl\"><title>{}</title>{}</text>", label_w - 8, y + 17,
                     esc(b.label), esc(short_label(b.label)));
    if (b.value && vmax > 0) {
      const double w = std::max(1.0, bar_w * (*b.value / vmax));
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" rx=\"2\"/>", label_w, y + 4, w,
                       row_h - 8, kColors[b.color % 8]);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"val\">{} {}</text>\n", label_w + w + 6, y + 17, num(*b.value),
                       esc(unit));
    } else {
      s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"na\">n/a</text>\n", label_w + 6, y + 17);
    }
  }
  s += "</svg></figure>\n";
  return s;
}

const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d7dbe3;padding-bottom:4px}
.meta{color:#5b6475;font-size:12.5px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d7dbe3;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f7}td.n{text-align:right;white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
.verdict{border-left:5px solid #109618;background:#f2faf3;padding:10px 14px;margin:10px 0;border-radius:4px}
.verdict.none{border-color:#dc3912;background:#fdf3f1}
.verdict h3{margin:0 0 6px;font-size:15px}.out{color:#a33}.win{font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:10px 26px}
figure.chart{margin:0;padding:6px 0}figcaption{font-weight:600;margin-bottom:2px}.hint{font-weight:400;color:#6b7385;font-size:12px}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}svg text.na{fill:#8a92a3;font-style:italic}
pre.ans{white-space:pre-wrap;word-break:break-word;margin:0;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:16em;overflow:auto}
.skip{color:#8a92a3;font-style:italic}.score{font-size:12px;color:#3b4456;margin-top:4px}
.good{color:#109618}.bad{color:#c0392b}
.badge{font-size:11px;font-weight:600;padding:1px 6px;border-radius:8px;margin-left:6px;color:#fff}
.badge.ship{background:#109618}.badge.rank{background:#6b7385}.badge.outb{background:#c0392b}
)";

}  // namespace

std::string render_compare_html(const CompareReport& r) {
  std::vector<size_t> ok;
  for (size_t i = 0; i < r.models.size(); ++i)
    if (r.models[i].error.empty()) ok.push_back(i);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>pocket compare</title>\n<style>";
  h += kStyle;
  h += "</style></head><body>\n";
  std::vector<std::string> labels;
  for (const ModelMeasurement& m : r.models) labels.push_back(esc(m.label));
  h += fmt::format("<header><h1>pocket compare: {}</h1>\n<p class=\"meta\">{} &middot; {} &middot; suite: {} ({} prompts) &middot; "
                   "{} run(s) per probe, medians &middot; {} tokens per answer</p></header>\n",
                   fmt::join(labels, " vs "), esc(r.created), esc(r.host), esc(r.suite), r.prompts.size(), r.runs,
                   r.max_tokens);

  // Verdicts first: the answer to "which one should I ship?".
  h += "<section id=\"verdict\"><h2>Verdict</h2>\n";
  for (const CompareVerdict& v : r.verdicts) {
    h += fmt::format("<div class=\"verdict{}\"><h3>Constraints ({}): {}</h3>\n<p>{}</p><ol>\n", v.winner ? "" : " none",
                     esc(v.constraints.name), esc(v.constraints.describe()), esc(v.summary));
    for (const ModelVerdict& mv : v.models) {
      const std::string& label = r.models[mv.model].label;
      if (mv.eligible)
        h += fmt::format("<li class=\"{}\">{}</li>\n", mv.rank == 1 ? "win" : "", esc(label));
    }
    h += "</ol>\n";
    for (const ModelVerdict& mv : v.models)
      if (!mv.eligible)
        h += fmt::format("<p class=\"out\">out: {}: {}</p>\n", esc(r.models[mv.model].label),
                         esc(fmt::format("{}", fmt::join(mv.violations, "; "))));
    h += "</div>\n";
  }
  h += "<p class=\"meta\">Ranking among eligible models: quality (mean score on prompts with references, ties within 0.01), "
       "then decode tokens/s, then peak memory, then text time to first token (ties within 5%), then command-line order.</p>"
       "</section>\n";

  // Side-by-side table.
  h += "<section id=\"table\"><h2>Side by side</h2>\n<table><thead><tr><th>metric</th>";
  for (size_t i : ok) {
    // The first verdict's standing under each name, so an excluded model is visibly out.
    const std::string standing = r.verdicts.empty() ? "" : verdict_standing(r.verdicts[0], i);
    h += fmt::format("<th>{}{}</th>", esc(r.models[i].label),
                     standing.empty() ? std::string()
                                      : fmt::format(" <span class=\"badge {}\">{}</span>",
                                                    standing == "ships" ? "ship" : standing == "out" ? "outb" : "rank",
                                                    esc(standing)));
  }
  h += "</tr></thead><tbody>\n";
  auto row = [&](const std::string& name, auto&& cell) {
    h += fmt::format("<tr><th>{}</th>", esc(name));
    for (size_t i : ok) h += fmt::format("<td class=\"n\">{}</td>", esc(cell(r.models[i])));
    h += "</tr>\n";
  };
  auto oms = [](const std::optional<double>& v) { return v ? num(*v) + " ms" : std::string("n/a"); };
  row("file size (model + mmproj)", [](const ModelMeasurement& m) {
    return m.mmproj_bytes == 0 ? format_size_iec(m.model_bytes) : format_size_iec(m.model_bytes) + " + " + format_size_iec(m.mmproj_bytes);
  });
  row("load time", [](const ModelMeasurement& m) { return num(m.load_ms) + " ms"; });
  row("peak resident memory", [](const ModelMeasurement& m) { return format_size_iec(m.peak_rss_bytes); });
  row("KV cache per token", [](const ModelMeasurement& m) { return format_size_iec(m.kv_bytes_per_token); });
  row("TTFT text", [](const ModelMeasurement& m) { return num(m.ttft_text_ms) + " ms"; });
  row("TTFT one tile", [&](const ModelMeasurement& m) { return oms(m.ttft_tile_ms); });
  row("TTFT 1920x1080 image", [&](const ModelMeasurement& m) { return oms(m.ttft_image_ms); });
  row("TTFT video", [&](const ModelMeasurement& m) { return oms(m.ttft_video_ms); });
  row("prefill", [](const ModelMeasurement& m) { return num(m.prefill_tokens_per_second) + " tok/s"; });
  row("decode", [](const ModelMeasurement& m) { return num(m.decode_tokens_per_second) + " tok/s"; });
  row("image encode per tile", [&](const ModelMeasurement& m) { return oms(m.encode_ms_per_tile); });
  row("CPU time per answer", [](const ModelMeasurement& m) {
    return m.cpu_seconds_per_answer > 0 ? num(m.cpu_seconds_per_answer) + " s" : std::string("n/a");
  });
  row("quality (mean score)", [](const ModelMeasurement& m) {
    return m.quality ? fmt::format("{:.3f} (n={})", *m.quality, m.n_scored) : std::string("n/a");
  });
  row("exact / contains / ANLS", [](const ModelMeasurement& m) {
    return m.quality ? fmt::format("{:.2f} / {:.2f} / {:.2f}", *m.exact, *m.contains, *m.anls) : std::string("n/a");
  });
  auto yn = [](bool b) { return std::string(b ? "yes" : "no"); };
  row("images / multi-image", [&](const ModelMeasurement& m) { return yn(m.caps.images) + " / " + yn(m.caps.multi_image); });
  row("video / tools", [&](const ModelMeasurement& m) { return yn(m.caps.video) + " / " + yn(m.caps.tools); });
  row("context length", [](const ModelMeasurement& m) { return fmt::format("{}", m.caps.context_length); });
  row("license", [](const ModelMeasurement& m) { return m.caps.license; });
  row("architecture", [](const ModelMeasurement& m) {
    return m.caps.vision_family.empty() ? m.arch : m.arch + " + " + m.caps.vision_family;
  });
  h += "</tbody></table>\n";
  for (const ModelMeasurement& m : r.models) {
    if (!m.error.empty()) h += fmt::format("<p class=\"out\">{}: failed: {}</p>\n", esc(m.label), esc(m.error));
    for (const std::string& n : m.notes) h += fmt::format("<p class=\"out\">{}: {}</p>\n", esc(m.label), esc(n));
  }
  h += "</section>\n";

  // Charts.
  h += "<section id=\"charts\"><h2>Charts</h2><div class=\"charts\">\n";
  auto chart = [&](const std::string& id, const std::string& title, const std::string& unit, bool lower,
                   auto&& value) {
    std::vector<Bar> bars;
    for (size_t i : ok) bars.push_back({r.models[i].label, value(r.models[i]), i});
    h += bar_chart(id, title, unit, lower, bars);
  };
  using O = std::optional<double>;
  chart("ttft-text", "Time to first token: text", "ms", true, [](const ModelMeasurement& m) { return O(m.ttft_text_ms); });
  chart("ttft-tile", "Time to first token: one tile", "ms", true, [](const ModelMeasurement& m) { return m.ttft_tile_ms; });
  chart("ttft-image", "Time to first token: 1920x1080 image", "ms", true,
        [](const ModelMeasurement& m) { return m.ttft_image_ms; });
  chart("ttft-video", "Time to first token: video", "ms", true, [](const ModelMeasurement& m) { return m.ttft_video_ms; });
  chart("prefill", "Prefill throughput", "tokens/s", false,
        [](const ModelMeasurement& m) { return O(m.prefill_tokens_per_second); });
  chart("decode", "Decode throughput", "tokens/s", false,
        [](const ModelMeasurement& m) { return O(m.decode_tokens_per_second); });
  chart("memory", "Peak resident memory", "MiB", true,
        [](const ModelMeasurement& m) { return O(m.peak_rss_bytes / 1048576.0); });
  chart("load", "Load time", "ms", true, [](const ModelMeasurement& m) { return O(m.load_ms); });
  h += "</div></section>\n";

  // Answers side by side.
  h += "<section id=\"answers\"><h2>Answers</h2>\n<table><thead><tr><th>prompt</th><th>reference</th>";
  for (size_t i : ok) h += fmt::format("<th>{}</th>", esc(r.models[i].label));
  h += "</tr></thead><tbody>\n";
  for (size_t k = 0; k < r.prompts.size(); ++k) {
    const ComparePrompt& p = r.prompts[k];
    std::string media;
    for (const std::string& img : p.images) media += "<br><span class=\"meta\">image: " + esc(img) + "</span>";
    if (!p.video.empty()) media += "<br><span class=\"meta\">video: " + esc(p.video) + "</span>";
    h += fmt::format("<tr><td><b>{}</b><br>{}{}</td><td>{}</td>", esc(p.id), esc(p.prompt), media,
                     p.references.empty() ? std::string("<span class=\"skip\">none</span>")
                                          : esc(fmt::format("{}", fmt::join(p.references, " | "))) + "<br><span class=\"meta\">match: " +
                                                match_kind_name(p.match) + "</span>");
    for (size_t i : ok) {
      const ModelMeasurement& m = r.models[i];
      if (k >= m.prompts.size()) {
        h += "<td></td>";
        continue;
      }
      const ComparePromptResult& a = m.prompts[k];
      std::string cell = a.answered ? "<pre class=\"ans\">" + esc(a.answer) + "</pre>"
                                    : "<span class=\"skip\">not answered: " + esc(a.skipped_reason) + "</span>";
      if (a.scores)
        cell += fmt::format("<div class=\"score {}\">score {:.2f} (exact {:.0f}, contains {:.0f}, ANLS {:.2f})</div>",
                            a.scores->score >= 0.5 ? "good" : "bad", a.scores->score, a.scores->exact,
                            a.scores->contains, a.scores->anls);
      if (a.answered)
        cell += fmt::format("<div class=\"meta\">TTFT {} ms &middot; {} tokens &middot; {} CPU-s</div>", num(a.ttft_ms),
                            a.generated_tokens, num(a.cpu_seconds));
      h += "<td>" + cell + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</tbody></table></section>\n";

  h += "<section id=\"settings\"><h2>How this was measured</h2><p class=\"meta\">Each model was loaded, measured and freed "
       "before the next, in one process. Peak memory is the process's resident high-water mark while the model was "
       "loaded (reset before each load). Time to first token covers templating, media preprocessing, image encoding, "
       "tokenizing and prefill. Answers are greedy. See docs/compare.md.</p><ul class=\"meta\">\n";
  for (size_t i : ok) {
    const ModelMeasurement& m = r.models[i];
    h += fmt::format("<li>{}: {}{} &middot; {} threads &middot; video probe: {}</li>\n", esc(m.label), esc(m.model_path),
                     m.mmproj_path.empty() ? std::string() : " + " + esc(m.mmproj_path), m.threads,
                     esc(m.video_probe.empty() ? "n/a" : m.video_probe));
  }
  h += "</ul></section>\n</body></html>\n";
  return h;
}

}  // namespace pocket::cli
