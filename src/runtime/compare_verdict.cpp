// Constraint checks and the ranking rule of `pocket compare` (documented in compare_verdict.h
// and docs/compare.md).
#include "runtime/compare_verdict.h"

#include <cmath>
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/ranges.h>

#include "core/error.h"

namespace pocket {

namespace {

std::string trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return "";
  const size_t b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

double parse_number(std::string_view s, const char* what) {
  const std::string t = trim(s);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  POCKET_CHECK(!t.empty() && end && *end == '\0' && std::isfinite(v) && v > 0, "invalid {} '{}' (expected a positive number)",
               what, t);
  return v;
}

// -1: a better, 1: b better, 0: tie within the relative margin.
int cmp_higher(double a, double b, double rel) {
  const double scale = std::max(std::fabs(a), std::fabs(b));
  if (std::fabs(a - b) <= rel * scale) return 0;
  return a > b ? -1 : 1;
}

std::string fmt_num(double v) {
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

struct Criterion {
  const char* name;
  // -1 / 0 / 1 as cmp_higher; `why` gets the numbers when decisive.
  int (*cmp)(const ModelMeasurement&, const ModelMeasurement&);
  std::string (*why)(const ModelMeasurement&, const ModelMeasurement&);
};

int cmp_quality(const ModelMeasurement& a, const ModelMeasurement& b) {
  const double qa = a.quality.value_or(0), qb = b.quality.value_or(0);
  if (std::fabs(qa - qb) <= 0.01) return 0;
  return qa > qb ? -1 : 1;
}
std::string why_quality(const ModelMeasurement& a, const ModelMeasurement& b) {
  return fmt::format("quality {} vs {} (mean score on {} prompts with references)", fmt_num(a.quality.value_or(0)),
                     fmt_num(b.quality.value_or(0)), a.n_scored);
}
int cmp_decode(const ModelMeasurement& a, const ModelMeasurement& b) {
  return cmp_higher(a.decode_tokens_per_second, b.decode_tokens_per_second, 0.05);
}
std::string why_decode(const ModelMeasurement& a, const ModelMeasurement& b) {
  return fmt::format("decode {} vs {} tokens/s", fmt_num(a.decode_tokens_per_second), fmt_num(b.decode_tokens_per_second));
}
int cmp_ram(const ModelMeasurement& a, const ModelMeasurement& b) {
  return -cmp_higher(static_cast<double>(a.peak_rss_bytes), static_cast<double>(b.peak_rss_bytes), 0.05);
}
std::string why_ram(const ModelMeasurement& a, const ModelMeasurement& b) {
  return fmt::format("peak memory {} vs {}", format_size_iec(a.peak_rss_bytes), format_size_iec(b.peak_rss_bytes));
}
int cmp_ttft(const ModelMeasurement& a, const ModelMeasurement& b) {
  return -cmp_higher(a.ttft_text_ms, b.ttft_text_ms, 0.05);
}
std::string why_ttft(const ModelMeasurement& a, const ModelMeasurement& b) {
  return fmt::format("text time to first token {} vs {} ms", fmt_num(a.ttft_text_ms), fmt_num(b.ttft_text_ms));
}

bool has_need(const ModelMeasurement& m, const std::string& need) {
  if (need == "images") return m.caps.images;
  if (need == "multi-image") return m.caps.multi_image;
  if (need == "video") return m.caps.video;
  if (need == "tools") return m.caps.tools;
  return false;
}

}  // namespace

uint64_t parse_size(std::string_view s) {
  std::string t = trim(s);
  POCKET_CHECK(!t.empty(), "invalid size '' (expected e.g. 2G or 512M)");
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  const std::string num = t.substr(0, i);
  std::string unit = trim(t.substr(i));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (!unit.empty() && unit != "B") {
    const char u = unit[0];
    const std::string rest = unit.substr(1);
    POCKET_CHECK(rest.empty() || rest == "B" || rest == "IB", "invalid size '{}' (expected e.g. 2G or 512M)", t);
    switch (u) {
      case 'K': mult = 1024.0; break;
      case 'M': mult = 1024.0 * 1024; break;
      case 'G': mult = 1024.0 * 1024 * 1024; break;
      case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
      default: fail("invalid size '{}' (units: K, M, G, T)", t);
    }
  }
  const double v = parse_number(num, "size") * mult;
  POCKET_CHECK(v >= 1 && v < 1.8e19, "invalid size '{}'", t);
  return static_cast<uint64_t>(v);
}

std::vector<std::string> parse_needs(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find_first_of(",+", i);
    if (j == std::string_view::npos) j = s.size();
    const std::string n = trim(s.substr(i, j - i));
    if (!n.empty()) {
      POCKET_CHECK(n == "images" || n == "multi-image" || n == "video" || n == "tools",
                   "unknown need '{}' (expected images, multi-image, video or tools)", n);
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    i = j + 1;
  }
  return out;
}

CompareConstraints parse_scenario(std::string_view s) {
  CompareConstraints c;
  c.name = trim(s);
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    const std::string item = trim(s.substr(i, j - i));
    i = j + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    POCKET_CHECK(eq != std::string::npos, "scenario item '{}' is not key=value", item);
    const std::string key = trim(item.substr(0, eq)), val = trim(item.substr(eq + 1));
    if (key == "max-ram") c.max_ram_bytes = parse_size(val);
    else if (key == "max-ttft") c.max_ttft_ms = parse_number(val, "max-ttft");
    else if (key == "min-tps" || key == "min-tokens-per-second") c.min_tokens_per_second = parse_number(val, "min-tps");
    else if (key == "needs") {
      for (const std::string& n : parse_needs(val))
        if (std::find(c.needs.begin(), c.needs.end(), n) == c.needs.end()) c.needs.push_back(n);
    } else fail("unknown scenario key '{}' (expected max-ram, max-ttft, min-tps, needs)", key);
  }
  return c;
}

std::string format_size_iec(uint64_t b) {
  const double v = static_cast<double>(b);
  if (v >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", v / (1024.0 * 1024 * 1024));
  if (v >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", v / (1024.0 * 1024));
  if (v >= 1024.0) return fmt::format("{:.1f} KiB", v / 1024.0);
  return fmt::format("{} B", b);
}

std::string CompareConstraints::describe() const {
  std::vector<std::string> parts;
  if (max_ram_bytes) parts.push_back("max-ram " + format_size_iec(*max_ram_bytes));
  if (max_ttft_ms) parts.push_back(fmt::format("max-ttft {} ms", fmt_num(*max_ttft_ms)));
  if (min_tokens_per_second) parts.push_back(fmt::format("min {} tokens/s", fmt_num(*min_tokens_per_second)));
  if (!needs.empty()) parts.push_back("needs " + fmt::format("{}", fmt::join(needs, ", ")));
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, "; "));
}

CompareVerdict decide(const std::vector<ModelMeasurement>& models, const CompareConstraints& c) {
  CompareVerdict v;
  v.constraints = c;
  std::vector<ModelVerdict> eligible, out;
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelMeasurement& m = models[i];
    ModelVerdict mv;
    mv.model = i;
    if (!m.error.empty()) {
      mv.violations.push_back("failed: " + m.error);
    } else {
      if (c.max_ram_bytes && m.peak_rss_bytes > *c.max_ram_bytes)
        mv.violations.push_back(fmt::format("peak memory {} > max-ram {}", format_size_iec(m.peak_rss_bytes),
                                            format_size_iec(*c.max_ram_bytes)));
      for (const std::string& n : c.needs)
        if (!has_need(m, n)) mv.violations.push_back(fmt::format("no {} support", n));
      if (c.max_ttft_ms) {
        auto check = [&](const char* what, std::optional<double> ms) {
          if (!ms) {
            mv.violations.push_back(fmt::format("{} time to first token not measured", what));
            return;
          }
          if (*ms > *c.max_ttft_ms)
            mv.violations.push_back(fmt::format("{} time to first token {} ms > max-ttft {} ms", what, fmt_num(*ms),
                                                fmt_num(*c.max_ttft_ms)));
        };
        check("text", m.ttft_text_ms);
        const bool need_img = std::find(c.needs.begin(), c.needs.end(), "images") != c.needs.end() ||
                              std::find(c.needs.begin(), c.needs.end(), "multi-image") != c.needs.end();
        // A model without the needed input is already out for it; only a failed probe remains.
        if (need_img && m.caps.images) check("1920x1080 image", m.ttft_image_ms);
        if (m.caps.video && std::find(c.needs.begin(), c.needs.end(), "video") != c.needs.end())
          check("video", m.ttft_video_ms);
      }
      if (c.min_tokens_per_second && m.decode_tokens_per_second < *c.min_tokens_per_second)
        mv.violations.push_back(fmt::format("decode {} tokens/s < min {} tokens/s", fmt_num(m.decode_tokens_per_second),
                                            fmt_num(*c.min_tokens_per_second)));
    }
    mv.eligible = mv.violations.empty();
    (mv.eligible ? eligible : out).push_back(std::move(mv));
  }

  bool any_refs = false;
  for (const ModelVerdict& mv : eligible) any_refs = any_refs || models[mv.model].n_scored > 0;
  std::vector<Criterion> crit;
  if (any_refs) crit.push_back({"quality", cmp_quality, why_quality});
  crit.push_back({"decode_tokens_per_second", cmp_decode, why_decode});
  crit.push_back({"peak_rss_bytes", cmp_ram, why_ram});
  crit.push_back({"ttft_text_ms", cmp_ttft, why_ttft});
  // -1 when a ranks before b; the index breaks the last tie (command-line order).
  auto before = [&](const ModelVerdict& a, const ModelVerdict& b) {
    for (const Criterion& k : crit) {
      const int r = k.cmp(models[a.model], models[b.model]);
      if (r != 0) return r < 0;
    }
    return a.model < b.model;
  };
  // Insertion sort: the tie margins make `before` non-transitive, which std::sort must not see.
  for (size_t i = 1; i < eligible.size(); ++i)
    for (size_t j = i; j > 0 && before(eligible[j], eligible[j - 1]); --j) std::swap(eligible[j], eligible[j - 1]);
  for (size_t i = 0; i < eligible.size(); ++i) eligible[i].rank = static_cast<int>(i + 1);

  auto reasons = [&](const ModelVerdict& mv) {
    return fmt::format("{} ({})", models[mv.model].label, fmt::join(mv.violations, "; "));
  };
  if (eligible.empty()) {
    v.deciding_criterion = "none";
    std::vector<std::string> rs;
    for (const ModelVerdict& mv : out) rs.push_back(reasons(mv));
    v.summary = fmt::format("No model meets the constraints: {}.", fmt::join(rs, "; "));
  } else {
    const ModelMeasurement& w = models[eligible[0].model];
    v.winner = eligible[0].model;
    if (eligible.size() == 1) {
      v.deciding_criterion = "only_eligible";
      std::vector<std::string> rs;
      for (const ModelVerdict& mv : out) rs.push_back(reasons(mv));
      v.summary = out.empty() ? fmt::format("Ship {}: it is the only model compared.", w.label)
                              : fmt::format("Ship {}: the only model that meets the constraints; out: {}.", w.label,
                                            fmt::join(rs, "; "));
    } else {
      const ModelMeasurement& r = models[eligible[1].model];
      v.deciding_criterion = "order";
      std::string why = fmt::format("tied with {} on every measure; listed first", r.label);
      for (const Criterion& k : crit) {
        if (k.cmp(w, r) != 0) {
          v.deciding_criterion = k.name;
          why = fmt::format("{} over {}", k.why(w, r), r.label);
          break;
        }
      }
      v.summary = fmt::format("Ship {}: {}.", w.label, why);
      if (!out.empty()) {
        std::vector<std::string> rs;
        for (const ModelVerdict& mv : out) rs.push_back(reasons(mv));
        v.summary += fmt::format(" Out: {}.", fmt::join(rs, "; "));
      }
    }
  }
  v.models = std::move(eligible);
  for (ModelVerdict& mv : out) v.models.push_back(std::move(mv));
  return v;
}

}  // namespace pocket
