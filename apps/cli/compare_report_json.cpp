// JSON rendering of a `pocket compare` report. The document's shape is docs/compare.schema.json
// (JSON Schema draft 2020-12); change both together. Units are in the field names (_ms, _bytes).
#include <nlohmann/json.hpp>

#include "apps/cli/compare_report.h"

namespace pocket::cli {

namespace {

using Json = nlohmann::ordered_json;

Json opt_num(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt_str(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json model_json(const ModelMeasurement& m) {
  Json j;
  j["label"] = m.label;
  j["spec"] = m.spec;
  j["model_path"] = m.model_path;
  j["mmproj_path"] = opt_str(m.mmproj_path);
  j["architecture"] = m.arch;
  j["name"] = m.name;
  j["threads"] = m.threads;
  j["files"] = {{"model_bytes", m.model_bytes},
                {"mmproj_bytes", m.mmproj_bytes > 0 ? Json(m.mmproj_bytes) : Json(nullptr)},
                {"total_bytes", m.model_bytes + m.mmproj_bytes}};
  j["load_ms"] = m.load_ms;
  j["memory"] = {{"peak_rss_bytes", m.peak_rss_bytes},
                 {"baseline_rss_bytes", m.baseline_rss_bytes},
                 {"peak_rss_method", m.peak_rss_method},
                 {"kv_bytes_per_token", m.kv_bytes_per_token}};
  j["latency_ms"] = {{"ttft_text", m.ttft_text_ms},
                     {"ttft_tile", opt_num(m.ttft_tile_ms)},
                     {"ttft_image_1920x1080", opt_num(m.ttft_image_ms)},
                     {"ttft_video", opt_num(m.ttft_video_ms)}};
  j["video_probe"] = opt_str(m.video_probe);
  j["throughput"] = {{"prefill_tokens_per_second", m.prefill_tokens_per_second},
                     {"decode_tokens_per_second", m.decode_tokens_per_second}};
  j["image"] = {{"encode_ms_per_tile", opt_num(m.encode_ms_per_tile)},
                {"tiles_1920x1080", m.image_tiles_1080p > 0 ? Json(m.image_tiles_1080p) : Json(nullptr)}};
  j["cpu_seconds_per_answer"] = m.cpu_seconds_per_answer > 0 ? Json(m.cpu_seconds_per_answer) : Json(nullptr);
  j["quality"] = {{"n_scored", m.n_scored},
                  {"score", opt_num(m.quality)},
                  {"exact", opt_num(m.exact)},
                  {"contains", opt_num(m.contains)},
                  {"anls", opt_num(m.anls)}};
  j["capabilities"] = {{"images", m.caps.images},
                       {"multi_image", m.caps.multi_image},
                       {"video", m.caps.video},
                       {"tools", m.caps.tools},
                       {"context_length", m.caps.context_length},
                       {"license", m.caps.license},
                       {"vision_family", opt_str(m.caps.vision_family)}};
  Json answers = Json::array();
  for (const ComparePromptResult& r : m.prompts) {
    Json a;
    a["id"] = r.id;
    a["answered"] = r.answered;
    a["skipped_reason"] = r.answered ? Json(nullptr) : Json(r.skipped_reason);
    a["answer"] = r.answered ? Json(r.answer) : Json(nullptr);
    a["ttft_ms"] = r.answered ? Json(r.ttft_ms) : Json(nullptr);
    a["total_ms"] = r.answered ? Json(r.total_ms) : Json(nullptr);
    a["cpu_seconds"] = r.answered ? Json(r.cpu_seconds) : Json(nullptr);
    a["prompt_tokens"] = r.prompt_tokens;
    a["generated_tokens"] = r.generated_tokens;
    a["scores"] = r.scores ? Json{{"exact", r.scores->exact},
                                  {"contains", r.scores->contains},
                                  {"anls", r.scores->anls},
                                  {"score", r.scores->score}}
                           : Json(nullptr);
    answers.push_back(std::move(a));
  }
  j["answers"] = std::move(answers);
  j["notes"] = m.notes;
  return j;
}

}  // namespace

std::string render_compare_json(const CompareReport& r) {
  Json doc;
  doc["format"] = "pocket-compare/1";
  doc["created"] = r.created;
  doc["host"] = r.host;
  doc["settings"] = {{"suite", r.suite},
                     {"runs", r.runs},
                     {"max_tokens", r.max_tokens},
                     {"threads", r.threads},
                     {"n_prompts", r.prompts.size()}};
  Json prompts = Json::array();
  for (const ComparePrompt& p : r.prompts) {
    prompts.push_back({{"id", p.id},
                       {"prompt", p.prompt},
                       {"images", p.images},
                       {"video", opt_str(p.video)},
                       {"references", p.references},
                       {"match", match_kind_name(p.match)}});
  }
  doc["prompts"] = std::move(prompts);
  Json models = Json::array(), failed = Json::array();
  for (const ModelMeasurement& m : r.models) {
    if (m.error.empty()) models.push_back(model_json(m));
    else failed.push_back({{"label", m.label}, {"spec", m.spec}, {"error", m.error}});
  }
  doc["models"] = std::move(models);
  doc["failed"] = std::move(failed);
  Json verdicts = Json::array();
  for (const CompareVerdict& v : r.verdicts) {
    const CompareConstraints& c = v.constraints;
    Json ranking = Json::array();
    for (const ModelVerdict& mv : v.models)
      ranking.push_back({{"label", r.models[mv.model].label},
                         {"eligible", mv.eligible},
                         {"rank", mv.eligible ? Json(mv.rank) : Json(nullptr)},
                         {"violations", mv.violations}});
    verdicts.push_back(
        {{"name", c.name},
         {"constraints",
          {{"max_ram_bytes", c.max_ram_bytes ? Json(*c.max_ram_bytes) : Json(nullptr)},
           {"max_ttft_ms", opt_num(c.max_ttft_ms)},
           {"min_tokens_per_second", opt_num(c.min_tokens_per_second)},
           {"needs", c.needs},
           {"description", c.describe()}}},
         {"winner", v.winner ? Json(r.models[*v.winner].label) : Json(nullptr)},
         {"deciding_criterion", v.deciding_criterion},
         {"summary", v.summary},
         {"ranking", std::move(ranking)}});
  }
  doc["verdicts"] = std::move(verdicts);
  // Invalid UTF-8 in a model's answer is replaced rather than aborting the report.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pocket::cli
