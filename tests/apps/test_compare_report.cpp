// `pocket compare` renderers on hand-made reports: model output and file names are escaped in
// the HTML (and cannot inject markup), invalid UTF-8 in an answer never breaks the JSON or
// the page, unsupported inputs show as n/a, failed models are listed, and the JSON of a
// hand-made report validates against docs/compare.schema.json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "apps/cli/compare_report.h"
#include "apps/test_compare_schema.h"
#include "test_util.h"

namespace pocket::cli {
namespace {

ModelMeasurement measured(const std::string& label, const std::string& answer) {
  ModelMeasurement m;
  m.spec = m.label = label;
  m.model_path = "/models/" + label + ".gguf";
  m.arch = "llama";
  m.name = label;
  m.threads = 2;
  m.model_bytes = 1000;
  m.load_ms = 5;
  m.baseline_rss_bytes = 10 << 20;
  m.peak_rss_bytes = 50 << 20;
  m.peak_rss_method = "vmhwm-reset";
  m.kv_bytes_per_token = 256;
  m.ttft_text_ms = 12;
  m.prefill_tokens_per_second = 900;
  m.decode_tokens_per_second = 40;
  m.cpu_seconds_per_answer = 0.5;
  m.caps.context_length = 4096;
  m.caps.license = "apache-2.0";
  m.n_scored = 1;
  m.quality = m.exact = m.contains = m.anls = 0;
  ComparePromptResult r;
  r.id = "q1";
  r.answered = true;
  r.answer = answer;
  r.ttft_ms = 12;
  r.total_ms = 40;
  r.cpu_seconds = 0.1;
  r.prompt_tokens = 9;
  r.generated_tokens = 3;
  r.scores = AnswerScores{};
  m.prompts.push_back(r);
  return m;
}

CompareReport report() {
  CompareReport r;
  ComparePrompt p;
  p.id = "q1";
  p.prompt = "Is 1 < 2 & 3 > 2?";
  p.references = {"yes"};
  r.prompts.push_back(p);
  r.models.push_back(measured("alpha<i>", "<img src=x onerror=alert(1)> \"quoted\" 'single' & \xFF\xFE broken"));
  r.models.push_back(measured("beta", "yes"));
  r.models.back().mmproj_path = "/models/beta-mmproj.gguf";
  r.models.back().mmproj_bytes = 500;
  r.models.back().caps.images = r.models.back().caps.multi_image = true;
  r.models.back().ttft_tile_ms = 30;
  r.models.back().ttft_image_ms = 300;
  r.models.back().encode_ms_per_tile = 20;
  r.models.back().image_tiles_1080p = 13;
  r.models.back().notes.push_back("video: time to first token probe failed: <too long>");
  ModelMeasurement failed;
  failed.spec = failed.label = "gamma";
  failed.error = "cannot open 'gamma': <missing>";
  r.models.push_back(failed);
  r.verdicts.push_back(decide(r.models, {}));
  CompareConstraints c = parse_scenario("needs=images");
  r.verdicts.push_back(decide(r.models, c));
  r.suite = "prompts";
  r.runs = 1;
  r.max_tokens = 8;
  r.created = "2026-01-01T00:00:00Z";
  r.host = "test CPU";
  return r;
}

TEST(CompareReport, HtmlEscapesEverything) {
  const std::string h = render_compare_html(report());
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_NE(h.find("&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &#39;single&#39; &amp; \xEF\xBF\xBD\xEF\xBF\xBD broken"),
            std::string::npos);
  EXPECT_EQ(h.find("alpha<i>"), std::string::npos);
  EXPECT_NE(h.find("alpha&lt;i&gt;"), std::string::npos);
  EXPECT_NE(h.find("Is 1 &lt; 2 &amp; 3 &gt; 2?"), std::string::npos);
  EXPECT_NE(h.find("cannot open &#39;gamma&#39;: &lt;missing&gt;"), std::string::npos);
  EXPECT_NE(h.find("probe failed: &lt;too long&gt;"), std::string::npos);
  // Unsupported inputs show as n/a, in the table and the charts.
  EXPECT_NE(h.find("class=\"na\">n/a</text>"), std::string::npos);
  EXPECT_NE(h.find("id=\"verdict\""), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
}

TEST(CompareReport, JsonSurvivesBadUtf8AndMatchesTheSchema) {
  const CompareReport r = report();
  const std::string text = render_compare_json(r);
  const nlohmann::json j = nlohmann::json::parse(text);  // throws on invalid UTF-8
  EXPECT_NE(j["models"][0]["answers"][0]["answer"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
  ASSERT_EQ(j["models"].size(), 2u);
  ASSERT_EQ(j["failed"].size(), 1u);
  EXPECT_EQ(j["failed"][0]["label"], "gamma");
  EXPECT_TRUE(j["models"][0]["latency_ms"]["ttft_tile"].is_null());
  EXPECT_TRUE(j["models"][0]["files"]["mmproj_bytes"].is_null());
  EXPECT_EQ(j["verdicts"][1]["winner"], "beta");
  EXPECT_EQ(j["models"][1]["notes"][0], "video: time to first token probe failed: <too long>");
  EXPECT_TRUE(j["models"][0]["image"]["tiles_1920x1080"].is_null());
  const auto schema = nlohmann::json::parse(pocket::test::read_text(std::string(POCKET_SOURCE_DIR) + "/docs/compare.schema.json"));
  for (const std::string& e : pocket::test::SchemaLite(schema).validate(j)) ADD_FAILURE() << e;
}

TEST(CompareReport, TableListsVerdictsAndExclusions) {
  const std::string t = render_compare_table(report());
  EXPECT_NE(t.find("TTFT one tile"), std::string::npos);
  EXPECT_NE(t.find("gamma: failed: cannot open"), std::string::npos);
  EXPECT_NE(t.find("verdict [needs=images; constraints: needs images]"), std::string::npos);
  EXPECT_NE(t.find("out: alpha<i>: no images support"), std::string::npos);
  EXPECT_NE(t.find("beta: video: time to first token probe failed: <too long>"), std::string::npos);
}

}  // namespace
}  // namespace pocket::cli
