// Loads a vocabulary from GGUF metadata (tokenizer.ggml.*) into a VocabTokenizer, configuring the
// pre-tokenizer that the Hugging Face tokenizer.json of the same model uses, so that ids match HF.
// Key meanings and defaults follow llama.cpp src/llama-vocab.cpp (llama_vocab::impl::load).
#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/pretok_regex.h"
#include "tokenizer/tokenizer_impl.h"

namespace pocket {

namespace {

using tok::DecodeStep;
using tok::PreTokStep;
using tok::SplitBehavior;
using tok::SplitPattern;

using tok::kGpt2Regex;
using tok::kLlama3Regex;
using tok::kQwen2Regex;
using tok::kTekkenRegex;

PreTokStep regex_split(const char* pattern) {
  PreTokStep p;
  p.kind = PreTokStep::Kind::Split;
  p.pattern.kind = SplitPattern::Kind::Regex;
  p.pattern.re = std::make_shared<tok::Regex>(pattern);
  p.behavior = SplitBehavior::Isolated;
  return p;
}

PreTokStep byte_level(bool use_regex) {
  PreTokStep p;
  p.kind = PreTokStep::Kind::ByteLevel;
  p.add_prefix_space = false;
  p.use_regex = use_regex;
  return p;
}

bool one_of(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (s == n) return true;
  }
  return false;
}

// Sets the pre-tokenizer for a tokenizer.ggml.pre value; returns llama.cpp's add_bos default.
bool configure_pre(tok::VocabTokenizer& t, const std::string& pre) {
  auto& steps = t.pre_tokenizers_;
  if (one_of(pre, {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"})) {
    // HF: Sequence[Digits(individual_digits), ByteLevel(use_regex)].
    PreTokStep digits;
    digits.pattern.kind = SplitPattern::Kind::Numeric;
    digits.behavior = SplitBehavior::Isolated;
    steps.push_back(digits);
    steps.push_back(byte_level(true));
    return false;
  }
  if (one_of(pre, {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "mpt", "olmo",
                   "jais", "a.x-4.0", "mellum", "modern-bert"})) {
    steps.push_back(byte_level(true));
    return false;
  }
  if (one_of(pre, {"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"})) {
    steps.push_back(regex_split(kLlama3Regex));
    steps.push_back(byte_level(false));
    t.ignore_merges_ = true;
    return true;
  }
  if (pre == "tekken") {
    steps.push_back(regex_split(kTekkenRegex));
    steps.push_back(byte_level(false));
    t.ignore_merges_ = true;
    return true;
  }
  if (one_of(pre, {"qwen2", "stablelm2", "hunyuan", "deepseek-r1-qwen", "megrez"})) {
    steps.push_back(regex_split(kQwen2Regex));
    steps.push_back(byte_level(false));
    return false;
  }
  if (pre.empty() || pre == "default") {
    // llama.cpp's fallback chain for BPE vocabularies without a known pre-tokenizer.
    steps.push_back(regex_split(R"([\p{P}\$\+<=>\^~\|]+)"));
    steps.push_back(regex_split(kGpt2Regex));
    steps.push_back(regex_split(R"(\p{N}+)"));
    steps.push_back(regex_split(R"([0-9][0-9][0-9])"));
    return false;
  }
  fail("unsupported tokenizer pre-tokenizer '{}'", pre);
}

TokenAttr attr_from_type(int64_t type) {
  switch (type) {
    case 2: return TokenAttr::Unknown;
    case 3: return TokenAttr::Control;
    case 4: return TokenAttr::UserDefined;
    case 5: return TokenAttr::Unused;
    case 6: return TokenAttr::Byte;
    default: return TokenAttr::Normal;
  }
}

int32_t optional_id(const GgufFile& f, const char* key, int32_t n_vocab) {
  const auto v = f.get_int(key);
  if (!v) return -1;
  POCKET_CHECK(*v >= 0 && *v < n_vocab, "GGUF {} = {} is outside the vocabulary [0, {})", key, *v, n_vocab);
  return static_cast<int32_t>(*v);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  POCKET_CHECK(model.has_value(), "GGUF has no tokenizer (tokenizer.ggml.model missing)");
  const GgufArray* tokens = f.get_array("tokenizer.ggml.tokens");
  POCKET_CHECK(tokens && tokens->elem_type == GgufType::STRING, "GGUF tokenizer.ggml.tokens missing or not strings");
  POCKET_CHECK(tokens->count > 0 && tokens->count < (1u << 30), "GGUF tokenizer.ggml.tokens has {} entries",
               tokens->count);
  POCKET_CHECK(tokens->strings.size() == tokens->count, "GGUF tokenizer.ggml.tokens is malformed");
  const auto n = static_cast<int32_t>(tokens->count);

  std::vector<std::string> texts(tokens->strings.begin(), tokens->strings.end());
  std::vector<TokenAttr> attrs(n, TokenAttr::Normal);
  if (const GgufArray* types = f.get_array("tokenizer.ggml.token_type")) {
    POCKET_CHECK(types->count == tokens->count, "GGUF tokenizer.ggml.token_type has {} entries for {} tokens",
                 types->count, tokens->count);
    POCKET_CHECK(types->elem_type != GgufType::STRING && types->elem_type != GgufType::ARRAY &&
                     types->elem_type != GgufType::F32 && types->elem_type != GgufType::F64,
                 "GGUF tokenizer.ggml.token_type is not an integer array");
    for (int32_t i = 0; i < n; ++i) attrs[i] = attr_from_type(types->int_at(i));
  }
  std::vector<float> scores;
  if (const GgufArray* sc = f.get_array("tokenizer.ggml.scores")) {
    POCKET_CHECK(sc->count == tokens->count, "GGUF tokenizer.ggml.scores has {} entries for {} tokens", sc->count,
                 tokens->count);
    POCKET_CHECK(sc->elem_type != GgufType::STRING && sc->elem_type != GgufType::ARRAY,
                 "GGUF tokenizer.ggml.scores is not numeric");
    scores.resize(n);
    for (int32_t i = 0; i < n; ++i) scores[i] = static_cast<float>(sc->number_at(i));
  }

  auto t = std::make_unique<tok::VocabTokenizer>();
  bool add_bos = false;
  if (*model == "gpt2") {
    t->kind_ = tok::ModelKind::Bpe;
    t->byte_level_ = true;
    add_bos = configure_pre(*t, f.get_string_or("tokenizer.ggml.pre", "default"));
    DecodeStep d;
    d.kind = DecodeStep::Kind::ByteLevel;
    t->decoders_.push_back(d);
  } else if (*model == "llama") {
    t->kind_ = tok::ModelKind::Spm;
    t->byte_level_ = false;
    t->add_space_prefix_ = f.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    add_bos = true;
    // The decoder Hugging Face uses for these vocabularies (Llama 2 tokenizer.json).
    DecodeStep rep;
    rep.kind = DecodeStep::Kind::Replace;
    rep.literal = "\xe2\x96\x81";
    rep.content.assign(1, ' ');
    DecodeStep bf;
    bf.kind = DecodeStep::Kind::ByteFallback;
    DecodeStep fuse;
    fuse.kind = DecodeStep::Kind::Fuse;
    t->decoders_ = {rep, bf, fuse};
    if (t->add_space_prefix_) {
      DecodeStep strip;
      strip.kind = DecodeStep::Kind::Strip;
      strip.cp = ' ';
      strip.start = 1;
      t->decoders_.push_back(strip);
    }
  } else {
    fail("unsupported tokenizer model '{}' (supported: gpt2, llama)", *model);
  }

  t->set_vocab(std::move(texts), std::move(attrs), std::move(scores));

  if (*model == "gpt2") {
    const GgufArray* merges = f.get_array("tokenizer.ggml.merges");
    POCKET_CHECK(merges && merges->elem_type == GgufType::STRING, "GGUF tokenizer.ggml.merges missing or not strings");
    POCKET_CHECK(merges->strings.size() == merges->count, "GGUF tokenizer.ggml.merges is malformed");
    for (const std::string_view m : merges->strings) {
      const size_t sp = m.find(' ', 1);
      POCKET_CHECK(sp != std::string_view::npos && sp + 1 < m.size(), "GGUF merge '{}' is not 'a b'", m);
      t->add_merge(m.substr(0, sp), m.substr(sp + 1));
    }
  }

  const int32_t bos = optional_id(f, "tokenizer.ggml.bos_token_id", n);
  const int32_t eos = optional_id(f, "tokenizer.ggml.eos_token_id", n);
  const int32_t eot = optional_id(f, "tokenizer.ggml.eot_token_id", n);
  const int32_t eom = optional_id(f, "tokenizer.ggml.eom_token_id", n);
  const int32_t unk = optional_id(f, "tokenizer.ggml.unknown_token_id", n);
  optional_id(f, "tokenizer.ggml.padding_token_id", n);  // validated; not used for encoding
  if (const auto key = f.get_bool("tokenizer.ggml.add_bos_token")) {
    add_bos = *key;
    POCKET_CHECK(!add_bos || bos >= 0, "GGUF asks for BOS but has no tokenizer.ggml.bos_token_id");
  } else if (bos < 0) {
    add_bos = false;  // the pre-tokenizer's default cannot apply without a BOS id
  }
  const bool add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", false);
  POCKET_CHECK(!add_eos || eos >= 0, "GGUF asks for EOS but has no tokenizer.ggml.eos_token_id");
  // llama.cpp drops byte-level pieces it cannot map; SPM falls back to the unknown token.
  if (t->kind_ == tok::ModelKind::Spm) t->unk_id_ = unk;
  if (add_bos) t->prefix_ids_ = {bos};
  if (add_eos) t->suffix_ids_ = {eos};
  t->set_specials(bos, eos, add_bos);
  // mistral-common (the reference for Tekken vocabularies) never parses control tokens out
  // of message text. ref: mistral-common src/mistral_common/tokens/tokenizers/tekken.py (its
  // tiktoken Encoding is built with special_tokens={}; control tokens are added by id only).
  t->set_literal_control_text(*model == "gpt2" && f.get_string_or("tokenizer.ggml.pre", "") == "tekken");
  t->finalize(eot, eom);

  // End-of-generation tokens are treated as control tokens (llama.cpp overrides their type).
  for (int32_t id : t->eog_ids()) t->mark_control(id);
  // Control, user-defined and unknown tokens are matched whole in the text; only user-defined
  // ones when parse_special is off (llama.cpp tokenizer_st_partition).
  std::vector<tok::AddedToken> added;
  for (int32_t id = 0; id < n; ++id) {
    const TokenAttr a = t->token_attr(id);
    if (a != TokenAttr::Control && a != TokenAttr::UserDefined && a != TokenAttr::Unknown) continue;
    std::string text = t->token_text(id);
    if (text.empty()) continue;
    tok::AddedToken at;
    at.id = id;
    at.content = std::move(text);
    at.special = a != TokenAttr::UserDefined;
    added.push_back(std::move(at));
  }
  t->set_added_tokens(std::move(added));
  return t;
}

}  // namespace pocket
