// tokenizer.json (+ tokenizer_config.json, config.json, chat template files) -> GGUF
// tokenizer.ggml.* keys, so a converted checkpoint carries its vocabulary like any GGUF.
// Token list, types, merges and special ids follow llama.cpp convert_hf_to_gguf.py
// (TextModel.get_vocab_base, _set_vocab_gpt2) and gguf-py/gguf/vocab.py (SpecialVocab). The
// pre-tokenizer name is recognised from the tokenizer.json structure (llama.cpp hashes test
// output instead); only names tokenizer/tokenizer_gguf.cpp reproduces exactly are emitted.
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/mmap.h"
#include "models/hf_checkpoint.h"
#include "tokenizer/pretok_regex.h"

namespace pocket {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

using tok::kLlama3Regex;
using tok::kQwen2Regex;
using tok::kTekkenRegex;

// GGUF token types (ref: llama.cpp gguf-py/gguf/constants.py TokenType).
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

std::optional<json> read_json_if_exists(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  MappedFile m(p.string());
  POCKET_CHECK(m.size() <= (256u << 20), "'{}' is larger than 256 MiB", p.string());
  try {
    return json::parse(reinterpret_cast<const char*>(m.data()), reinterpret_cast<const char*>(m.data()) + m.size());
  } catch (const json::exception& e) {
    fail("'{}' is not valid JSON: {}", p.string(), e.what());
  }
}

// Member lookup that is safe on const objects (json::operator[] const is undefined when absent).
const json& at(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

bool is_type(const json& j, const char* type) { return j.is_object() && j.value("type", std::string()) == type; }

// The GGUF pre-tokenizer name for a tokenizer.json, or "" when none reproduces it exactly.
std::string detect_pre(const json& tj, bool ignore_merges) {
  if (!at(tj, "normalizer").is_null()) return "";
  const json& pre = at(tj, "pre_tokenizer");
  std::vector<json> steps;
  if (is_type(pre, "Sequence") && at(pre, "pretokenizers").is_array()) {
    for (const json& s : at(pre, "pretokenizers")) steps.push_back(s);
  } else if (pre.is_object()) {
    steps.push_back(pre);
  }
  auto byte_level = [](const json& s, bool use_regex) {
    return is_type(s, "ByteLevel") && s.value("use_regex", true) == use_regex && !s.value("add_prefix_space", false);
  };
  if (steps.size() == 2 && is_type(steps[0], "Digits") && steps[0].value("individual_digits", false) &&
      byte_level(steps[1], true))
    return ignore_merges ? "" : "smollm";
  if (steps.size() == 1 && byte_level(steps[0], true)) return ignore_merges ? "" : "gpt-2";
  if (steps.size() == 2 && is_type(steps[0], "Split") && byte_level(steps[1], false) &&
      steps[0].value("behavior", std::string()) == "Isolated" && !steps[0].value("invert", false) &&
      at(at(steps[0], "pattern"), "Regex").is_string()) {
    const std::string re = at(at(steps[0], "pattern"), "Regex").get<std::string>();
    // llama.cpp looks whole pre-tokens up first for these two (ignore_merges), as HF does.
    if (re == kLlama3Regex) return "llama-bpe";
    if (re == kTekkenRegex) return "tekken";
    if (re == kQwen2Regex) return ignore_merges ? "" : "qwen2";
  }
  return "";
}

// A special token in tokenizer_config.json: a string or an AddedToken object.
std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (at(v, "content").is_string()) return at(v, "content").get<std::string>();
  return "";
}

void set_chat_template(const fs::path& dir, const std::optional<json>& tcfg, GgufWriter& w) {
  // Newer repos keep the template in its own file; older ones in tokenizer_config.json.
  std::error_code ec;
  const fs::path jinja = dir / "chat_template.jinja";
  if (fs::is_regular_file(jinja, ec)) {
    MappedFile m(jinja.string());
    w.set_string("tokenizer.chat_template", std::string(reinterpret_cast<const char*>(m.data()), m.size()));
    return;
  }
  if (auto ct = read_json_if_exists(dir / "chat_template.json"); ct && at(*ct, "chat_template").is_string()) {
    w.set_string("tokenizer.chat_template", at(*ct, "chat_template").get<std::string>());
    return;
  }
  if (!tcfg || !tcfg->contains("chat_template")) return;
  const json& t = at(*tcfg, "chat_template");
  if (t.is_string()) {
    w.set_string("tokenizer.chat_template", t.get<std::string>());
  } else if (t.is_array()) {
    // A list of named templates: the default one is the chat template (ref: gguf-py vocab.py).
    for (const json& e : t)
      if (e.is_object() && e.value("name", std::string()) == "default" && e.contains("template") && e["template"].is_string())
        w.set_string("tokenizer.chat_template", e["template"].get<std::string>());
  }
}

}  // namespace

bool convert_hf_tokenizer(const std::string& dir_s, const json& config, int64_t n_vocab, GgufWriter& w) {
  const fs::path dir(dir_s);
  const std::optional<json> tcfg = read_json_if_exists(dir / "tokenizer_config.json");
  set_chat_template(dir, tcfg, w);
  const std::optional<json> tj = read_json_if_exists(dir / "tokenizer.json");
  POCKET_CHECK(tj.has_value(), "checkpoint '{}' has no tokenizer.json", dir_s);
  POCKET_CHECK(at(*tj, "model").is_object(), "'{}/tokenizer.json' has no model", dir_s);
  const json& model = at(*tj, "model");
  if (model.value("type", std::string()) != "BPE" || model.value("byte_fallback", false) ||
      !model.value("continuing_subword_prefix", json()).is_null() || !model.value("end_of_word_suffix", json()).is_null())
    return false;
  const std::string pre = detect_pre(*tj, model.value("ignore_merges", false));
  if (pre.empty()) return false;

  POCKET_CHECK(at(model, "vocab").is_object(), "'{}/tokenizer.json': model.vocab is not an object", dir_s);
  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab), 0);
  std::map<std::string, int32_t> ids;
  auto place = [&](int64_t id, const std::string& text, int32_t type) {
    POCKET_CHECK(id >= 0 && id < n_vocab, "'{}/tokenizer.json': token '{}' has id {}, outside the {} embedding rows",
                 dir_s, text.substr(0, 40), id, n_vocab);
    tokens[static_cast<size_t>(id)] = text;
    types[static_cast<size_t>(id)] = type;
    ids.emplace(text, static_cast<int32_t>(id));
  };
  for (const auto& [text, id] : at(model, "vocab").items()) {
    POCKET_CHECK(id.is_number_integer(), "'{}/tokenizer.json': vocab id of '{}' is not an integer", dir_s, text.substr(0, 40));
    place(id.get<int64_t>(), text, kNormal);
  }
  // transformers takes the special flag from tokenizer_config.json's added_tokens_decoder.
  std::map<int64_t, bool> special_override;
  if (tcfg && at(*tcfg, "added_tokens_decoder").is_object()) {
    for (const auto& [k, v] : at(*tcfg, "added_tokens_decoder").items())
      if (at(v, "special").is_boolean()) {
        try {
          special_override[std::stoll(k)] = at(v, "special").get<bool>();
        } catch (const std::exception&) {
        }
      }
  }
  if (at(*tj, "added_tokens").is_array()) {
    for (const json& a : at(*tj, "added_tokens")) {
      POCKET_CHECK(at(a, "id").is_number_integer() && at(a, "content").is_string(),
                   "'{}/tokenizer.json': malformed added token", dir_s);
      const int64_t id = at(a, "id").get<int64_t>();
      bool special = at(a, "special").is_boolean() && at(a, "special").get<bool>();
      if (auto it = special_override.find(id); it != special_override.end()) special = it->second;
      place(id, at(a, "content").get<std::string>(), special ? kControl : kUserDefined);
    }
  }
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (types[static_cast<size_t>(i)] != 0) continue;
    tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";  // as llama.cpp pads
    types[static_cast<size_t>(i)] = kUnused;
  }
  std::vector<std::string> merges;
  if (at(model, "merges").is_array()) {
    for (const json& m : at(model, "merges")) {
      if (m.is_string()) merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else fail("'{}/tokenizer.json': malformed merge", dir_s);
    }
  }

  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_array_string("tokenizer.ggml.merges", merges);

  // Special ids: tokenizer_config.json by content, then config.json's *_token_id.
  int64_t eos_written = -1;
  for (const char* typ : {"bos", "eos", "unknown", "padding"}) {
    const std::string short_name = std::string(typ) == "unknown" ? "unk" : std::string(typ) == "padding" ? "pad" : typ;
    int64_t id = -1;
    if (tcfg) {
      const std::string content = token_content(at(*tcfg, (short_name + "_token").c_str()));
      if (auto it = ids.find(content); !content.empty() && it != ids.end()) id = it->second;
    }
    // Multimodal configs may keep the ids in text_config only.
    for (const json* cfg : {&config, &at(config, "text_config")}) {
      if (id >= 0) break;
      const json& v = at(*cfg, (short_name + "_token_id").c_str());
      if (v.is_number_integer()) id = v.get<int64_t>();
      else if (v.is_array() && !v.empty() && v[0].is_number_integer()) id = v[0].get<int64_t>();
    }
    if (id < 0 || id >= n_vocab) continue;
    w.set_u32(std::string("tokenizer.ggml.") + typ + "_token_id", static_cast<uint32_t>(id));
    if (std::string(typ) == "eos") eos_written = id;
  }
  // generation_config.json may stop on more ids than the tokenizer's EOS (SmolVLM2:
  // <end_of_utterance>); the first other one becomes the EOT id, which ends generation.
  if (auto gen = read_json_if_exists(dir / "generation_config.json")) {
    std::vector<int64_t> stop;
    const json& e = at(*gen, "eos_token_id");
    if (e.is_number_integer()) stop.push_back(e.get<int64_t>());
    for (const json& x : e.is_array() ? e : json::array())
      if (x.is_number_integer()) stop.push_back(x.get<int64_t>());
    for (int64_t id : stop)
      if (id >= 0 && id < n_vocab && id != eos_written) {
        w.set_u32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(id));
        break;
      }
  }
  // add_bos / add_eos: tokenizer_config.json, else the TemplateProcessing post-processor.
  std::optional<bool> add_bos, add_eos;
  if (tcfg && at(*tcfg, "add_bos_token").is_boolean()) add_bos = at(*tcfg, "add_bos_token").get<bool>();
  if (tcfg && at(*tcfg, "add_eos_token").is_boolean()) add_eos = at(*tcfg, "add_eos_token").get<bool>();
  const json& pp = at(*tj, "post_processor");
  if (is_type(pp, "TemplateProcessing") && at(pp, "single").is_array() && !at(pp, "single").empty()) {
    const json& single = at(pp, "single");
    if (!add_bos) add_bos = single.front().is_object() && single.front().contains("SpecialToken");
    if (!add_eos) add_eos = single.back().is_object() && single.back().contains("SpecialToken");
  }
  if (add_bos) w.set_bool("tokenizer.ggml.add_bos_token", *add_bos);
  if (add_eos) w.set_bool("tokenizer.ggml.add_eos_token", *add_eos);
  return true;
}

}  // namespace pocket
