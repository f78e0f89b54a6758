// `pocket compare` logic without models: answer scoring (exact, contains, ANLS with values
// worked out by hand below), size/needs/scenario parsing, the JSONL prompt format, and the
// verdict's constraint checks and ranking rule on hand-made measurements.
#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/compare_inputs.h"
#include "runtime/compare_quality.h"
#include "runtime/compare_verdict.h"

namespace pocket {
namespace {

TEST(CompareQuality, Normalize) {
  EXPECT_EQ(normalize_answer("  Hello \t\n  World  "), "hello world");
  EXPECT_EQ(normalize_answer("PARIS."), "paris.");
  EXPECT_EQ(normalize_answer(""), "");
  EXPECT_EQ(normalize_answer("Émile"), "Émile");  // non-ASCII kept as is
}

TEST(CompareQuality, Levenshtein) {
  EXPECT_EQ(levenshtein_codepoints("kitten", "sitting"), 3u);  // k->s, e->i, +g
  EXPECT_EQ(levenshtein_codepoints("", "abc"), 3u);
  EXPECT_EQ(levenshtein_codepoints("abc", "abc"), 0u);
  EXPECT_EQ(levenshtein_codepoints("café", "cafe"), 1u);  // one code point, two bytes
  EXPECT_EQ(levenshtein_codepoints("flaw", "lawn"), 2u);  // -f, +n
  EXPECT_EQ(levenshtein_codepoints("a\xFF", "a"), 1u);    // a stray byte is one unit
}

TEST(CompareQuality, AnlsByHand) {
  // Equal after normalization: NL = 0 -> 1.
  EXPECT_DOUBLE_EQ(anls_pair("  Paris ", "paris"), 1.0);
  // "pariss" vs "paris": lev 1, max length 6, NL = 1/6 -> 1 - 1/6 = 0.8333...
  EXPECT_NEAR(anls_pair("Pariss", "Paris"), 5.0 / 6.0, 1e-12);
  // "kitten" vs "sitting": lev 3, max length 7, NL = 3/7 = 0.43 < 0.5 -> 4/7 = 0.5714...
  EXPECT_NEAR(anls_pair("kitten", "sitting"), 4.0 / 7.0, 1e-12);
  // "abcd" vs "abxy": lev 2, max 4, NL = 0.5, not below the 0.5 threshold -> 0.
  EXPECT_DOUBLE_EQ(anls_pair("abcd", "abxy"), 0.0);
  // "abcd" vs "abcx": lev 1, max 4, NL = 0.25 -> 0.75.
  EXPECT_DOUBLE_EQ(anls_pair("abcd", "abcx"), 0.75);
  // "café" vs "cafe": lev 1 over 4 code points -> 0.75 (counting bytes would give 1 - 2/5 = 0.6).
  EXPECT_DOUBLE_EQ(anls_pair("café", "cafe"), 0.75);
  // "cat" vs "dog": lev 3, max 3, NL = 1 -> 0.
  EXPECT_DOUBLE_EQ(anls_pair("cat", "dog"), 0.0);
  EXPECT_DOUBLE_EQ(anls_pair("", ""), 1.0);
  EXPECT_DOUBLE_EQ(anls_pair("", "abc"), 0.0);
}

TEST(CompareQuality, ScoreAnswer) {
  // A sentence containing the reference: contains 1, exact 0; "the capital is paris." (21
  // code points) vs "paris" (5): lev 16, NL = 16/21 >= 0.5 -> ANLS 0.
  AnswerScores s = score_answer("The capital is Paris.", {"Paris"}, MatchKind::Contains);
  EXPECT_EQ(s.exact, 0);
  EXPECT_EQ(s.contains, 1);
  EXPECT_EQ(s.anls, 0);
  EXPECT_EQ(s.score, 1);
  // Best reference counts: "color" vs {"colour", "color"} -> exact via the second.
  s = score_answer(" Color ", {"colour", "color"}, MatchKind::Exact);
  EXPECT_EQ(s.exact, 1);
  EXPECT_EQ(s.anls, 1);
  EXPECT_EQ(s.score, 1);
  // "colr" vs {"colour" (lev 2, max 6: 1 - 1/3 = 0.667), "color" (lev 1, max 5: 0.8)} -> 0.8.
  s = score_answer("colr", {"colour", "color"}, MatchKind::Anls);
  EXPECT_NEAR(s.anls, 0.8, 1e-12);
  EXPECT_NEAR(s.score, 0.8, 1e-12);
  EXPECT_EQ(s.contains, 0);
  EXPECT_THROW(score_answer("x", {}, MatchKind::Exact), Error);
  EXPECT_EQ(parse_match_kind("anls"), MatchKind::Anls);
  EXPECT_THROW(parse_match_kind("fuzzy"), Error);
}

TEST(CompareVerdictParse, Sizes) {
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("1.5GB"), 3ull << 29);
  EXPECT_EQ(parse_size("300k"), 300ull * 1024);
  EXPECT_EQ(parse_size("123456"), 123456ull);
  for (const char* bad : {"", "G", "2X", "-1", "1..5G", "2 GiBs", "0"}) EXPECT_THROW(parse_size(bad), Error) << bad;
}

TEST(CompareVerdictParse, NeedsAndScenarios) {
  EXPECT_EQ(parse_needs("video,tools"), (std::vector<std::string>{"video", "tools"}));
  EXPECT_EQ(parse_needs("video+video, multi-image"), (std::vector<std::string>{"video", "multi-image"}));
  EXPECT_THROW(parse_needs("audio"), Error);
  CompareConstraints c = parse_scenario("max-ram=1G, needs=video+tools, max-ttft=250, min-tps=12.5");
  EXPECT_EQ(*c.max_ram_bytes, 1ull << 30);
  EXPECT_EQ(*c.max_ttft_ms, 250);
  EXPECT_EQ(*c.min_tokens_per_second, 12.5);
  EXPECT_EQ(c.needs, (std::vector<std::string>{"video", "tools"}));
  EXPECT_THROW(parse_scenario("max-ram"), Error);
  EXPECT_THROW(parse_scenario("speed=fast"), Error);
  EXPECT_THROW(parse_scenario("max-ttft=-3"), Error);
}

ModelMeasurement model(const char* label, double quality, double decode, uint64_t peak_mib, bool video, bool tools) {
  ModelMeasurement m;
  m.label = label;
  m.quality = quality;
  m.n_scored = 4;
  m.decode_tokens_per_second = decode;
  m.peak_rss_bytes = peak_mib << 20;
  m.ttft_text_ms = 50;
  m.ttft_image_ms = 400;
  m.caps.images = m.caps.multi_image = true;
  m.caps.video = video;
  m.caps.tools = tools;
  if (video) m.ttft_video_ms = 900;
  return m;
}

std::string winner(const std::vector<ModelMeasurement>& ms, const CompareVerdict& v) {
  return v.winner ? ms[*v.winner].label : "";
}

TEST(CompareVerdictDecide, ConstraintsChangeTheWinner) {
  // A: better answers, video, 1 GiB. B: twice the decode speed, tools, 500 MiB.
  std::vector<ModelMeasurement> ms = {model("A", 0.8, 100, 1024, true, false), model("B", 0.5, 200, 500, false, true)};
  CompareVerdict v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "A");
  EXPECT_EQ(v.deciding_criterion, "quality");
  EXPECT_NE(v.summary.find("0.80 vs 0.50"), std::string::npos) << v.summary;
  ASSERT_EQ(v.models.size(), 2u);
  EXPECT_EQ(v.models[1].rank, 2);

  CompareConstraints c;
  c.max_ram_bytes = parse_size("800M");
  v = decide(ms, c);
  EXPECT_EQ(winner(ms, v), "B");
  EXPECT_EQ(v.deciding_criterion, "only_eligible");
  ASSERT_EQ(v.models.size(), 2u);  // A is marked out, not hidden
  EXPECT_FALSE(v.models[1].eligible);
  ASSERT_EQ(v.models[1].violations.size(), 1u);
  EXPECT_NE(v.models[1].violations[0].find("peak memory 1.00 GiB > max-ram 800.0 MiB"), std::string::npos);

  c = {};
  c.needs = {"tools"};
  EXPECT_EQ(winner(ms, decide(ms, c)), "B");
  c.needs = {"video"};
  EXPECT_EQ(winner(ms, decide(ms, c)), "A");
  c.needs = {"video", "tools"};
  v = decide(ms, c);
  EXPECT_FALSE(v.winner.has_value());
  EXPECT_EQ(v.deciding_criterion, "none");
  EXPECT_NE(v.summary.find("no tools support"), std::string::npos) << v.summary;

  c = {};
  c.min_tokens_per_second = 150;
  EXPECT_EQ(winner(ms, decide(ms, c)), "B");
  // max-ttft covers the video TTFT when video is needed: 900 ms > 500 ms.
  c = {};
  c.max_ttft_ms = 500;
  EXPECT_EQ(winner(ms, decide(ms, c)), "A");
  c.needs = {"video"};
  v = decide(ms, c);
  EXPECT_FALSE(v.winner.has_value());
  EXPECT_NE(v.models[0].violations.back().find("video time to first token 900 ms > max-ttft 500 ms"), std::string::npos);
  // A needed input whose probe could not run (e.g. -c too small) cannot be shown to meet it.
  ms[0].ttft_video_ms.reset();
  c.max_ttft_ms = 5000;
  v = decide(ms, c);
  EXPECT_FALSE(v.winner.has_value());
  EXPECT_EQ(v.models[0].violations.back(), "video time to first token not measured");
}

TEST(CompareVerdictDecide, RankingRuleWithTies) {
  // Quality within 0.01 is a tie: decode speed decides.
  std::vector<ModelMeasurement> ms = {model("A", 0.800, 100, 1024, true, false), model("B", 0.805, 200, 500, false, true)};
  CompareVerdict v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "B");
  EXPECT_EQ(v.deciding_criterion, "decode_tokens_per_second");
  // Decode within 5% as well: lower peak memory decides.
  ms[1].decode_tokens_per_second = 103;
  ms[0].peak_rss_bytes = 400ull << 20;
  v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "A");
  EXPECT_EQ(v.deciding_criterion, "peak_rss_bytes");
  // Everything tied: command-line order.
  ms[1] = ms[0];
  ms[1].label = "B";
  v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "A");
  EXPECT_EQ(v.deciding_criterion, "order");
  // No references anywhere: quality is not a criterion.
  ms = {model("A", 0, 100, 100, false, false), model("B", 0, 300, 900, false, false)};
  ms[0].n_scored = ms[1].n_scored = 0;
  ms[0].quality = ms[1].quality = std::nullopt;
  v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "B");
  EXPECT_EQ(v.deciding_criterion, "decode_tokens_per_second");
  // A failed model is listed, out, with its error.
  ms[1].error = "cannot open file";
  v = decide(ms, {});
  EXPECT_EQ(winner(ms, v), "A");
  EXPECT_EQ(v.models[1].violations[0], "failed: cannot open file");
}

TEST(ComparePrompts, Jsonl) {
  const std::string text =
      "# comment\n"
      "{\"prompt\": \"What is 2+2?\", \"reference\": \"4\", \"match\": \"exact\"}\n"
      "\n"
      "{\"id\": \"img\", \"prompt\": \"Describe.\", \"images\": [\"a.png\", \"/abs/b.png\"], \"reference\": [\"x\", \"y\"]}\n"
      "{\"prompt\": \"Video?\", \"video\": \"clip.mp4\"}\n";
  std::vector<ComparePrompt> p = parse_prompt_suite(text, "/data", "suite.jsonl");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].id, "p1");
  EXPECT_EQ(p[0].match, MatchKind::Exact);
  EXPECT_EQ(p[0].references, std::vector<std::string>{"4"});
  EXPECT_EQ(p[1].id, "img");
  EXPECT_EQ(p[1].images, (std::vector<std::string>{"/data/a.png", "/abs/b.png"}));
  EXPECT_EQ(p[1].match, MatchKind::Anls);  // the default
  EXPECT_EQ(p[1].references.size(), 2u);
  EXPECT_EQ(p[2].video, "/data/clip.mp4");
  EXPECT_TRUE(p[2].references.empty());
  auto error_of = [](const std::string& t) {
    try {
      parse_prompt_suite(t, "", "s.jsonl");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("{\"prompt\": \"a\"}\n{\"prompt\": 3}").find("s.jsonl:2"), std::string::npos);
  EXPECT_NE(error_of("{\"prompt\": \"a\", \"match\": \"fuzzy\"}").find("s.jsonl:1"), std::string::npos);
  EXPECT_NE(error_of("{\"prompt\": \"a\", \"colour\": 1}").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("{\"images\": []}").find("\"prompt\" is missing"), std::string::npos);
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("JSON object"), std::string::npos);
  EXPECT_NE(error_of("\n# only a comment\n").find("no prompts"), std::string::npos);
  EXPECT_FALSE(smoke_suite().empty());
}

}  // namespace
}  // namespace pocket
