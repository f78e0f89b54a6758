// Loads a Hugging Face tokenizer.json (huggingface/tokenizers serialization) into a VocabTokenizer.
// Supported: model BPE (byte-level or byte_fallback; ignore_merges; trivial subword affixes),
// normalizers, pre-tokenizers, decoders and post-processors commonly found with BPE models.
// Anything else is rejected with a message rather than tokenized differently.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace pocket {

namespace {

using nlohmann::json;
using tok::DecodeStep;
using tok::NormStep;
using tok::PreTokStep;
using tok::SplitBehavior;
using tok::SplitPattern;
using tok::VocabTokenizer;

const json& member(const json& j, const char* key, const char* where) {
  POCKET_CHECK(j.is_object(), "tokenizer.json: {} is not an object", where);
  const auto it = j.find(key);
  POCKET_CHECK(it != j.end(), "tokenizer.json: {} has no '{}'", where, key);
  return *it;
}

std::string get_str(const json& j, const char* key, const char* where, std::string def = {}, bool required = false) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    POCKET_CHECK(!required, "tokenizer.json: {} has no '{}'", where, key);
    return def;
  }
  POCKET_CHECK(it->is_string(), "tokenizer.json: {}.{} is not a string", where, key);
  return it->get<std::string>();
}

bool get_bool(const json& j, const char* key, const char* where, bool def) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  POCKET_CHECK(it->is_boolean(), "tokenizer.json: {}.{} is not a boolean", where, key);
  return it->get<bool>();
}

int64_t get_int(const json& j, const char* key, const char* where, int64_t def) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  POCKET_CHECK(it->is_number_integer(), "tokenizer.json: {}.{} is not an integer", where, key);
  return it->get<int64_t>();
}

int32_t single_cp(const std::string& s, const char* where) {
  size_t i = 0;
  POCKET_CHECK(!s.empty(), "tokenizer.json: {} must be one character", where);
  const int32_t cp = tok::next_cp(s, i);
  POCKET_CHECK(cp >= 0 && i == s.size(), "tokenizer.json: {} must be one character", where);
  return cp;
}

// {"String": "..."} or {"Regex": "..."}
void parse_pattern(const json& j, const char* where, std::string& literal, std::shared_ptr<tok::Regex>& re) {
  POCKET_CHECK(j.is_object(), "tokenizer.json: {} pattern is not an object", where);
  if (j.contains("Regex")) {
    re = std::make_shared<tok::Regex>(get_str(j, "Regex", where));
  } else {
    literal = get_str(j, "String", where, {}, true);
  }
}

SplitBehavior parse_behavior(const json& j, const char* where, SplitBehavior def) {
  const std::string b = get_str(j, "behavior", where);
  if (b.empty()) return def;
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  fail("tokenizer.json: {} has unknown behavior '{}'", where, b);
}

PreTokStep::Prepend parse_prepend(const json& j, const char* where) {
  const std::string s = get_str(j, "prepend_scheme", where);
  if (s.empty()) return get_bool(j, "add_prefix_space", where, true) ? PreTokStep::Prepend::Always : PreTokStep::Prepend::Never;
  if (s == "always") return PreTokStep::Prepend::Always;
  if (s == "first") return PreTokStep::Prepend::First;
  if (s == "never") return PreTokStep::Prepend::Never;
  fail("tokenizer.json: {} has unknown prepend_scheme '{}'", where, s);
}

void parse_normalizer(const json& j, std::vector<NormStep>& out, int depth) {
  if (j.is_null()) return;
  POCKET_CHECK(depth < 16, "tokenizer.json: normalizers nested too deeply");
  const std::string type = get_str(j, "type", "normalizer", {}, true);
  NormStep n;
  if (type == "Sequence") {
    const json& list = member(j, "normalizers", "normalizer Sequence");
    POCKET_CHECK(list.is_array(), "tokenizer.json: normalizer Sequence is not a list");
    for (const auto& e : list) parse_normalizer(e, out, depth + 1);
    return;
  } else if (type == "NFC") {
    n.kind = NormStep::Kind::NFC;
  } else if (type == "NFD") {
    n.kind = NormStep::Kind::NFD;
  } else if (type == "NFKC") {
    n.kind = NormStep::Kind::NFKC;
  } else if (type == "NFKD") {
    n.kind = NormStep::Kind::NFKD;
  } else if (type == "Lowercase") {
    n.kind = NormStep::Kind::Lowercase;
  } else if (type == "Replace") {
    n.kind = NormStep::Kind::Replace;
    parse_pattern(member(j, "pattern", "Replace normalizer"), "Replace normalizer", n.literal, n.re);
    n.content = get_str(j, "content", "Replace normalizer", {}, true);
  } else if (type == "Prepend") {
    n.kind = NormStep::Kind::Prepend;
    n.content = get_str(j, "prepend", "Prepend normalizer", {}, true);
  } else if (type == "Strip") {
    n.kind = NormStep::Kind::Strip;
    n.left = get_bool(j, "strip_left", "Strip normalizer", true);
    n.right = get_bool(j, "strip_right", "Strip normalizer", true);
  } else {
    fail("tokenizer.json: unsupported normalizer '{}'", type);
  }
  out.push_back(std::move(n));
}

void parse_pre_tokenizer(const json& j, std::vector<PreTokStep>& out, bool& byte_level, int depth) {
  if (j.is_null()) return;
  POCKET_CHECK(depth < 16, "tokenizer.json: pre-tokenizers nested too deeply");
  const std::string type = get_str(j, "type", "pre_tokenizer", {}, true);
  PreTokStep p;
  if (type == "Sequence") {
    const json& list = member(j, "pretokenizers", "pre_tokenizer Sequence");
    POCKET_CHECK(list.is_array(), "tokenizer.json: pre_tokenizer Sequence is not a list");
    for (const auto& e : list) parse_pre_tokenizer(e, out, byte_level, depth + 1);
    return;
  } else if (type == "ByteLevel") {
    p.kind = PreTokStep::Kind::ByteLevel;
    p.add_prefix_space = get_bool(j, "add_prefix_space", "ByteLevel", true);
    p.use_regex = get_bool(j, "use_regex", "ByteLevel", true);
    byte_level = true;
  } else if (type == "Split") {
    p.pattern.kind = SplitPattern::Kind::Regex;
    std::string literal;
    parse_pattern(member(j, "pattern", "Split"), "Split", literal, p.pattern.re);
    if (!p.pattern.re) {
      p.pattern.kind = SplitPattern::Kind::Literal;
      p.pattern.literal = literal;
    }
    p.behavior = parse_behavior(j, "Split", SplitBehavior::Isolated);
    p.pattern.invert = get_bool(j, "invert", "Split", false);
  } else if (type == "Digits") {
    p.pattern.kind = SplitPattern::Kind::Numeric;
    p.behavior = get_bool(j, "individual_digits", "Digits", false) ? SplitBehavior::Isolated : SplitBehavior::Contiguous;
  } else if (type == "Metaspace") {
    p.kind = PreTokStep::Kind::Metaspace;
    p.replacement = get_str(j, "replacement", "Metaspace", "\xe2\x96\x81");
    single_cp(p.replacement, "Metaspace replacement");
    p.prepend = parse_prepend(j, "Metaspace");
    p.split = get_bool(j, "split", "Metaspace", true);
  } else if (type == "Whitespace") {
    // ref: tokenizers src/pre_tokenizers/whitespace.rs: keep \w+ and [^\w\s]+ runs.
    p.pattern.re = std::make_shared<tok::Regex>(R"(\w+|[^\w\s]+)");
    p.pattern.invert = true;
    p.behavior = SplitBehavior::Removed;
  } else if (type == "WhitespaceSplit") {
    p.pattern.kind = SplitPattern::Kind::Whitespace;
    p.behavior = SplitBehavior::Removed;
  } else if (type == "Punctuation") {
    p.pattern.kind = SplitPattern::Kind::Punctuation;
    p.behavior = parse_behavior(j, "Punctuation", SplitBehavior::Isolated);
  } else if (type == "BertPreTokenizer") {
    p.pattern.kind = SplitPattern::Kind::Whitespace;
    p.behavior = SplitBehavior::Removed;
    out.push_back(p);
    p.pattern.kind = SplitPattern::Kind::Punctuation;
    p.behavior = SplitBehavior::Isolated;
  } else {
    fail("tokenizer.json: unsupported pre_tokenizer '{}'", type);
  }
  out.push_back(std::move(p));
}

void parse_decoder(const json& j, std::vector<DecodeStep>& out, int depth) {
  if (j.is_null()) return;
  POCKET_CHECK(depth < 16, "tokenizer.json: decoders nested too deeply");
  const std::string type = get_str(j, "type", "decoder", {}, true);
  DecodeStep d;
  if (type == "Sequence") {
    const json& list = member(j, "decoders", "decoder Sequence");
    POCKET_CHECK(list.is_array(), "tokenizer.json: decoder Sequence is not a list");
    for (const auto& e : list) parse_decoder(e, out, depth + 1);
    return;
  } else if (type == "ByteLevel") {
    d.kind = DecodeStep::Kind::ByteLevel;
  } else if (type == "ByteFallback") {
    d.kind = DecodeStep::Kind::ByteFallback;
  } else if (type == "Metaspace") {
    d.kind = DecodeStep::Kind::Metaspace;
    d.cp = single_cp(get_str(j, "replacement", "Metaspace decoder", "\xe2\x96\x81"), "Metaspace replacement");
    d.prepend_never = parse_prepend(j, "Metaspace decoder") == PreTokStep::Prepend::Never;
  } else if (type == "Replace") {
    d.kind = DecodeStep::Kind::Replace;
    parse_pattern(member(j, "pattern", "Replace decoder"), "Replace decoder", d.literal, d.re);
    d.content = get_str(j, "content", "Replace decoder", {}, true);
  } else if (type == "Fuse") {
    d.kind = DecodeStep::Kind::Fuse;
  } else if (type == "Strip") {
    d.kind = DecodeStep::Kind::Strip;
    d.cp = single_cp(get_str(j, "content", "Strip decoder", " "), "Strip content");
    const int64_t start = get_int(j, "start", "Strip decoder", 0), stop = get_int(j, "stop", "Strip decoder", 0);
    POCKET_CHECK(start >= 0 && start < 1024 && stop >= 0 && stop < 1024, "tokenizer.json: bad Strip decoder counts");
    d.start = static_cast<int>(start);
    d.stop = static_cast<int>(stop);
  } else if (type == "BPEDecoder") {
    d.kind = DecodeStep::Kind::BpeSuffix;
    d.content = get_str(j, "suffix", "BPEDecoder", "</w>");
  } else {
    fail("tokenizer.json: unsupported decoder '{}'", type);
  }
  out.push_back(std::move(d));
}

// Token ids a post-processor adds around a single sequence: [prefix] $A [suffix].
void parse_post_processor(const json& j, const tok::TextMap& vocab, std::vector<int32_t>& prefix,
                          std::vector<int32_t>& suffix, int depth) {
  if (j.is_null()) return;
  POCKET_CHECK(depth < 16, "tokenizer.json: post-processors nested too deeply");
  const std::string type = get_str(j, "type", "post_processor", {}, true);
  auto pair_id = [&](const char* key) -> int32_t {
    const json& p = member(j, key, type.c_str());
    POCKET_CHECK(p.is_array() && p.size() == 2 && p[1].is_number_integer(), "tokenizer.json: {}.{} is not [token, id]",
                 type, key);
    const int64_t id = p[1].get<int64_t>();
    POCKET_CHECK(id >= 0 && id < (1 << 30), "tokenizer.json: {}.{} id {} out of range", type, key, id);
    return static_cast<int32_t>(id);
  };
  if (type == "Sequence") {
    const json& list = member(j, "processors", "post_processor Sequence");
    POCKET_CHECK(list.is_array(), "tokenizer.json: post_processor Sequence is not a list");
    for (const auto& e : list) parse_post_processor(e, vocab, prefix, suffix, depth + 1);
  } else if (type == "ByteLevel") {
    // offsets only
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    prefix.push_back(pair_id("cls"));
    suffix.push_back(pair_id("sep"));
  } else if (type == "TemplateProcessing") {
    const json& single = member(j, "single", "TemplateProcessing");
    const json& specials = member(j, "special_tokens", "TemplateProcessing");
    POCKET_CHECK(single.is_array() && specials.is_object(), "tokenizer.json: malformed TemplateProcessing");
    bool seen_a = false;
    for (const auto& piece : single) {
      POCKET_CHECK(piece.is_object(), "tokenizer.json: malformed TemplateProcessing piece");
      if (piece.contains("Sequence")) {
        seen_a = true;
        continue;
      }
      const json& st = member(piece, "SpecialToken", "TemplateProcessing piece");
      const std::string name = get_str(st, "id", "TemplateProcessing SpecialToken", {}, true);
      const json& entry = member(specials, name.c_str(), "TemplateProcessing special_tokens");
      const json& ids = member(entry, "ids", "TemplateProcessing special token");
      POCKET_CHECK(ids.is_array(), "tokenizer.json: TemplateProcessing ids is not a list");
      for (const auto& id : ids) {
        POCKET_CHECK(id.is_number_integer(), "tokenizer.json: TemplateProcessing id is not an integer");
        const int64_t v = id.get<int64_t>();
        POCKET_CHECK(v >= 0 && v < (1 << 30), "tokenizer.json: TemplateProcessing id {} out of range", v);
        (seen_a ? suffix : prefix).push_back(static_cast<int32_t>(v));
      }
    }
  } else {
    fail("tokenizer.json: unsupported post_processor '{}'", type);
  }
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  POCKET_CHECK(in.good(), "cannot open tokenizer file '{}'", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_tokenizer_json_text(ss.str());
}

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json_text(std::string_view text) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    fail("tokenizer.json: invalid JSON: {}", e.what());
  }
  try {
    POCKET_CHECK(j.is_object(), "tokenizer.json: top level is not an object");
    const json& model = member(j, "model", "tokenizer.json");
    POCKET_CHECK(model.is_object(), "tokenizer.json: model is not an object");
    const std::string type = get_str(model, "type", "model", "BPE");
    POCKET_CHECK(type == "BPE", "tokenizer.json: unsupported model type '{}' (only BPE)", type);

    auto t = std::make_unique<VocabTokenizer>();
    t->kind_ = tok::ModelKind::Bpe;
    t->byte_fallback_ = get_bool(model, "byte_fallback", "model", false);
    t->ignore_merges_ = get_bool(model, "ignore_merges", "model", false);
    t->fuse_unk_ = get_bool(model, "fuse_unk", "model", false);
    t->cont_prefix_ = get_str(model, "continuing_subword_prefix", "model");
    t->eow_suffix_ = get_str(model, "end_of_word_suffix", "model");

    // Vocabulary: model entries, then added tokens (which win for their ids, as in HF).
    const json& vocab = member(model, "vocab", "model");
    POCKET_CHECK(vocab.is_object(), "tokenizer.json: model.vocab is not an object");
    const json* added_json = j.contains("added_tokens") ? &j["added_tokens"] : nullptr;
    if (added_json && added_json->is_null()) added_json = nullptr;
    POCKET_CHECK(!added_json || added_json->is_array(), "tokenizer.json: added_tokens is not a list");
    const size_t n_entries = vocab.size() + (added_json ? added_json->size() : 0);
    POCKET_CHECK(n_entries > 0, "tokenizer.json: empty vocabulary");
    const int64_t max_id_allowed = static_cast<int64_t>(n_entries) * 2 + 1024;
    int64_t max_id = -1;
    auto check_id = [&](const json& v, const std::string& what) -> int32_t {
      POCKET_CHECK(v.is_number_integer(), "tokenizer.json: id of '{}' is not an integer", what);
      const int64_t id = v.get<int64_t>();
      POCKET_CHECK(id >= 0 && id < max_id_allowed, "tokenizer.json: id {} of '{}' is out of range", id, what);
      max_id = std::max(max_id, id);
      return static_cast<int32_t>(id);
    };
    for (const auto& [k, v] : vocab.items()) check_id(v, k);
    std::vector<tok::AddedToken> added;
    if (added_json) {
      for (const auto& a : *added_json) {
        POCKET_CHECK(a.is_object(), "tokenizer.json: added token is not an object");
        tok::AddedToken at;
        at.content = get_str(a, "content", "added token", {}, true);
        at.id = check_id(member(a, "id", "added token"), at.content);
        at.special = get_bool(a, "special", "added token", false);
        at.single_word = get_bool(a, "single_word", "added token", false);
        at.lstrip = get_bool(a, "lstrip", "added token", false);
        at.rstrip = get_bool(a, "rstrip", "added token", false);
        at.normalized = get_bool(a, "normalized", "added token", !at.special);
        added.push_back(std::move(at));
      }
    }
    const auto n = static_cast<size_t>(max_id + 1);
    std::vector<std::string> texts(n);
    std::vector<TokenAttr> attrs(n, TokenAttr::Unused);
    for (const auto& [k, v] : vocab.items()) {
      const int32_t id = v.get<int32_t>();
      texts[id] = k;
      attrs[id] = TokenAttr::Normal;
      if (t->byte_fallback_ && k.size() == 6 && k.compare(0, 3, "<0x") == 0 && k[5] == '>') attrs[id] = TokenAttr::Byte;
    }
    const std::string unk = get_str(model, "unk_token", "model");
    for (const auto& a : added) {
      texts[a.id] = a.content;
      attrs[a.id] = a.special ? TokenAttr::Control : TokenAttr::UserDefined;
    }

    // Pipelines (normalizers before added tokens: normalized added tokens are matched normalized).
    if (j.contains("normalizer")) parse_normalizer(j["normalizer"], t->normalizers_, 0);
    bool byte_level = false;
    if (j.contains("pre_tokenizer")) parse_pre_tokenizer(j["pre_tokenizer"], t->pre_tokenizers_, byte_level, 0);
    t->byte_level_ = byte_level;
    if (j.contains("decoder")) parse_decoder(j["decoder"], t->decoders_, 0);

    t->set_vocab(std::move(texts), std::move(attrs), {});
    if (!unk.empty()) {
      const auto id = t->token_id(unk);
      if (id) t->unk_id_ = *id;  // an unk_token missing from the vocabulary drops unknown chars
    }

    const json& merges = member(model, "merges", "model");
    POCKET_CHECK(merges.is_array(), "tokenizer.json: model.merges is not a list");
    for (const auto& m : merges) {
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ', 1);
        POCKET_CHECK(sp != std::string::npos && sp + 1 < s.size(), "tokenizer.json: merge '{}' is not 'a b'", s);
        t->add_merge(std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1));
      } else {
        POCKET_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
                     "tokenizer.json: merge is neither 'a b' nor [a, b]");
        t->add_merge(m[0].get<std::string>(), m[1].get<std::string>());
      }
    }

    t->set_added_tokens(std::move(added));

    std::vector<int32_t> prefix, suffix;
    if (j.contains("post_processor")) parse_post_processor(j["post_processor"], t->text_to_id(), prefix, suffix, 0);
    auto first_of = [&](std::initializer_list<const char*> names) -> int32_t {
      for (const char* name : names) {
        if (const auto id = t->token_id(name)) return *id;
      }
      return -1;
    };
    const int32_t bos = !prefix.empty() ? prefix.front() : first_of({"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"});
    const int32_t eos = !suffix.empty() ? suffix.back()
                                        : first_of({"</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|im_end|>"});
    t->prefix_ids_ = std::move(prefix);
    t->suffix_ids_ = std::move(suffix);
    t->set_specials(bos, eos, !t->prefix_ids_.empty());
    t->finalize(-1, -1);
    return t;
  } catch (const json::exception& e) {
    fail("tokenizer.json: unexpected structure: {}", e.what());
  }
}

}  // namespace pocket
