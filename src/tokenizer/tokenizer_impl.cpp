// VocabTokenizer: vocabulary setup, added/special-token splitting, encode and decode.
// The order of stages follows huggingface/tokenizers (src/tokenizer/mod.rs, added_vocabulary.rs):
// split out added tokens on the raw text, normalize the rest, match normalized added tokens,
// pre-tokenize, run the model on each pre-token. SPM vocabularies from GGUF follow llama.cpp
// (src/llama-vocab.cpp, llama_vocab::impl::tokenize).
#include "tokenizer/tokenizer_impl.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace pocket::tok {

// ---------------------------------------------------------------------------------------------
// TokenTrie

void TokenTrie::insert(std::string_view s, int32_t value) {
  if (s.empty()) return;
  int32_t node = 0;
  for (unsigned char c : s) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
    auto it = edges_.find(key);
    if (it == edges_.end()) {
      it = edges_.emplace(key, n_nodes_++).first;
      value_.push_back(-1);
    }
    node = it->second;
  }
  value_[node] = value;
}

int32_t TokenTrie::longest_at(std::string_view text, size_t pos, size_t& len) const {
  int32_t node = 0, best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    const auto it = edges_.find(key);
    if (it == edges_.end()) break;
    node = it->second;
    if (value_[node] >= 0) {
      best = value_[node];
      len = i + 1 - pos;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Setup

void VocabTokenizer::set_vocab(std::vector<std::string> texts, std::vector<TokenAttr> attrs,
                               std::vector<float> scores) {
  POCKET_CHECK(!texts.empty(), "tokenizer: empty vocabulary");
  POCKET_CHECK(texts.size() < (1u << 30), "tokenizer: vocabulary too large ({} tokens)", texts.size());
  POCKET_CHECK(attrs.size() == texts.size(), "tokenizer: {} token types for {} tokens", attrs.size(), texts.size());
  POCKET_CHECK(scores.empty() || scores.size() == texts.size(), "tokenizer: {} scores for {} tokens",
               scores.size(), texts.size());
  id_to_text_ = std::move(texts);
  attrs_ = std::move(attrs);
  scores_ = std::move(scores);
  if (scores_.empty()) scores_.assign(id_to_text_.size(), 0.0f);
  text_to_id_.clear();
  text_to_id_.reserve(id_to_text_.size() * 2);
  for (size_t i = 0; i < id_to_text_.size(); ++i) {
    if (id_to_text_[i].empty()) continue;
    text_to_id_.emplace(id_to_text_[i], static_cast<int32_t>(i));  // first id wins
  }
  added_index_.assign(id_to_text_.size(), -1);
}

void VocabTokenizer::add_merge(std::string_view a, std::string_view b) {
  const auto ia = text_to_id_.find(a);
  const auto ib = text_to_id_.find(b);
  POCKET_CHECK(ia != text_to_id_.end() && ib != text_to_id_.end(),
               "tokenizer: merge {} ('{} {}') references a token not in the vocabulary", n_merges_, a, b);
  // With a continuing-subword prefix, the right part loses its prefix when merged
  // (ref: huggingface/tokenizers src/models/bpe/model.rs, BpeBuilder::build).
  std::string_view b_tail = b;
  if (!cont_prefix_.empty() && b_tail.substr(0, cont_prefix_.size()) == cont_prefix_) {
    b_tail.remove_prefix(cont_prefix_.size());
  }
  std::string merged;
  merged.reserve(a.size() + b_tail.size());
  merged.append(a).append(b_tail);
  const auto im = text_to_id_.find(merged);
  POCKET_CHECK(im != text_to_id_.end(), "tokenizer: merge {} ('{} {}') produces '{}', not in the vocabulary",
               n_merges_, a, b, merged);
  const uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint32_t>(ib->second);
  merges_.emplace(key, Merge{n_merges_, im->second});  // a repeated pair keeps its first rank
  ++n_merges_;
}

void VocabTokenizer::set_added_tokens(std::vector<AddedToken> added) {
  added_ = std::move(added);
  raw_trie_ = TokenTrie();
  norm_trie_ = TokenTrie();
  for (size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& t = added_[i];
    POCKET_CHECK(t.id >= 0 && t.id < n_vocab(), "tokenizer: added token '{}' has id {} outside [0, {})",
                 t.content, t.id, n_vocab());
    POCKET_CHECK(!t.content.empty(), "tokenizer: added token {} has empty content", t.id);
    added_index_[t.id] = static_cast<int32_t>(i);
    if (t.normalized && !normalizers_.empty()) {
      std::string c = t.content;
      normalize(c);
      norm_trie_.insert(c, static_cast<int32_t>(i));
    } else {
      raw_trie_.insert(t.content, static_cast<int32_t>(i));
    }
  }
}

void VocabTokenizer::finalize(int32_t eot_id, int32_t eom_id) {
  const int32_t n = n_vocab();
  auto check_id = [&](int32_t id, const char* what) {
    POCKET_CHECK(id >= -1 && id < n, "tokenizer: {} id {} outside [0, {})", what, id, n);
  };
  check_id(bos_id_, "bos");
  check_id(eos_id_, "eos");
  check_id(eot_id, "eot");
  check_id(eom_id, "eom");
  check_id(unk_id_, "unknown");
  for (int32_t id : prefix_ids_) POCKET_CHECK(id >= 0 && id < n, "tokenizer: post-processor id {} outside [0, {})", id, n);
  for (int32_t id : suffix_ids_) POCKET_CHECK(id >= 0 && id < n, "tokenizer: post-processor id {} outside [0, {})", id, n);

  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = -1;
    std::string key;
    if (byte_level_ && kind_ == ModelKind::Bpe) {
      key = bytes_to_byte_level(std::string(1, static_cast<char>(b)));
    } else {
      key = fmt::format("<0x{:02X}>", b);
    }
    auto it = text_to_id_.find(key);
    if (it == text_to_id_.end() && kind_ == ModelKind::Spm) {
      // llama.cpp byte_to_token: fall back to the byte itself as a token.
      it = text_to_id_.find(std::string(1, static_cast<char>(b)));
    }
    if (it != text_to_id_.end()) byte_ids_[b] = it->second;
  }

  // End-of-generation tokens as llama.cpp detects them (llama_vocab::impl::load, "auto-detect
  // special tokens by text"): explicit eos/eot/eom plus tokens known by their text.
  static const char* const kDeepSeekEos = "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>";
  static const char* const kEotNames[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                          "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                          kDeepSeekEos, "<end_of_utterance>"};
  static const char* const kEogNames[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                                          "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
                                          "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
                                          "<end_of_utterance>", "<eos>", "<turn|>", kDeepSeekEos};
  static const char* const kFimNames[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
                                          "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
                                          "<|file_sep|>"};
  auto find = [&](const char* name) -> int32_t {
    const auto it = text_to_id_.find(std::string_view(name));
    return it == text_to_id_.end() ? -1 : it->second;
  };
  if (eot_id < 0) {
    // llama.cpp walks an unordered map and keeps the first hit; prefer the lowest id for determinism.
    for (const char* name : kEotNames) {
      const int32_t id = find(name);
      if (id >= 0 && (eot_id < 0 || id < eot_id)) eot_id = id;
    }
  }
  if (eom_id < 0) eom_id = find("<|eom_id|>");
  std::vector<int32_t> eog;
  for (const char* name : kFimNames) {
    if (const int32_t id = find(name); id >= 0) eog.push_back(id);
  }
  for (const char* name : kEogNames) {
    if (const int32_t id = find(name); id >= 0) eog.push_back(id);
  }
  for (int32_t id : {eos_id_, eot_id, eom_id}) {
    if (id >= 0) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  // gpt-oss style vocabularies: "<|end|>" ends a message, not the generation.
  const bool has_call = find("<|call|>") >= 0 || find("<|calls|>") >= 0;
  if (has_call && (find("<|return|>") >= 0 || find("<|flush|>") >= 0)) {
    const int32_t end = find("<|end|>");
    eog.erase(std::remove(eog.begin(), eog.end(), end), eog.end());
  }
  eog_ids_ = std::move(eog);
}

// ---------------------------------------------------------------------------------------------
// Lookup

std::optional<int32_t> VocabTokenizer::token_id(std::string_view text) const {
  const auto it = text_to_id_.find(text);
  if (it == text_to_id_.end()) return std::nullopt;
  return it->second;
}

std::string VocabTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id {} outside [0, {})", id, n_vocab());
  return id_to_text_[id];
}

TokenAttr VocabTokenizer::token_attr(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id {} outside [0, {})", id, n_vocab());
  return attrs_[id];
}

// ---------------------------------------------------------------------------------------------
// Encode

std::vector<int32_t> VocabTokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  return encode_impl(text, add_bos, parse_special, nullptr);
}

std::vector<int32_t> VocabTokenizer::encode_with_literal(std::string_view text, bool add_bos,
                                                         const std::vector<TextSpan>& literal) const {
  return encode_impl(text, add_bos, true, literal.empty() ? nullptr : &literal);
}

std::vector<int32_t> VocabTokenizer::encode_impl(std::string_view text, bool add_bos, bool parse_special,
                                                 const std::vector<TextSpan>* literal) const {
  std::vector<int32_t> out;
  if (add_bos) out = prefix_ids_;
  size_t frag = 0, pos = 0;
  bool prev_special = true;  // SPM: the first fragment gets the space prefix, as after a special token
  size_t next_lit = 0;       // first literal range that may still contain or follow `pos`
  if (!raw_trie_.empty()) {
    while (pos < text.size()) {
      size_t len = 0;
      const int32_t idx = raw_trie_.longest_at(text, pos, len);
      if (idx < 0) {
        ++pos;
        continue;
      }
      const AddedToken& t = added_[idx];
      size_t start = pos, stop = pos + len;
      pos = stop;  // a discarded match is consumed as plain text, as in leftmost_find_iter
      if (t.special && !parse_special) continue;
      if (t.special && literal) {
        // Inside caller text a special token is plain text (parse_special off there); the
        // match is consumed only up to the range's end so a template marker right after the
        // caller text is still found.
        while (next_lit < literal->size() && (*literal)[next_lit].end <= start) ++next_lit;
        if (next_lit < literal->size()) {
          const TextSpan& r = (*literal)[next_lit];
          if (r.begin <= start) {
            pos = std::min(stop, r.end);
            continue;
          }
        }
      }
      if (t.single_word) {
        bool left_ok = true, right_ok = true;
        if (start > 0) {
          size_t b = start - 1;
          while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
          size_t j = b;
          left_ok = !cp_is_word(next_cp(text, j));
        }
        if (stop < text.size()) {
          size_t j = stop;
          right_ok = !cp_is_word(next_cp(text, j));
        }
        if (!left_ok || !right_ok) continue;
      }
      if (t.lstrip) {
        while (start > frag) {
          size_t b = start - 1;
          while (b > frag && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
          size_t j = b;
          if (!cp_is_whitespace(next_cp(text, j))) break;
          start = b;
        }
      }
      if (t.rstrip) {
        while (stop < text.size()) {
          size_t j = stop;
          if (!cp_is_whitespace(next_cp(text, j))) break;
          stop = j;
        }
        pos = stop;
      }
      if (start > frag) {
        encode_fragment(text.substr(frag, start - frag), frag == 0, prev_special, out);
      }
      out.push_back(t.id);
      prev_special = true;
      frag = stop;
    }
  }
  if (frag < text.size()) encode_fragment(text.substr(frag), frag == 0, prev_special, out);
  if (add_bos) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

void VocabTokenizer::encode_fragment(std::string_view text, bool at_start, bool prev_special,
                                     std::vector<int32_t>& out) const {
  if (kind_ == ModelKind::Spm) {
    // llama.cpp: a space goes before text that starts the input or follows a special token,
    // then every space becomes U+2581.
    std::string s;
    if (add_space_prefix_ && prev_special) s = " ";
    s.append(text);
    std::string escaped;
    escaped.reserve(s.size() + s.size() / 2);
    for (char c : s) {
      if (c == ' ') {
        escaped += "\xe2\x96\x81";
      } else {
        escaped += c;
      }
    }
    spm_text(escaped, out);
    return;
  }
  std::string s(text);
  normalize(s);
  auto run = [&](std::string piece_text, bool start) {
    for (const Piece& p : pre_tokenize(std::move(piece_text), start)) bpe_word(p.text, out);
  };
  if (norm_trie_.empty()) {
    run(std::move(s), at_start);
    return;
  }
  // Normalized added tokens match the normalized text (AddedVocabulary::extract_and_normalize).
  size_t frag = 0, pos = 0;
  while (pos < s.size()) {
    size_t len = 0;
    const int32_t idx = norm_trie_.longest_at(s, pos, len);
    if (idx < 0) {
      ++pos;
      continue;
    }
    const size_t start = pos;
    pos += len;
    if (start > frag) run(s.substr(frag, start - frag), at_start && frag == 0);
    out.push_back(added_[idx].id);
    frag = pos;
  }
  if (frag < s.size()) run(s.substr(frag), at_start && frag == 0);
}

void VocabTokenizer::push_unknown_bytes(std::string_view bytes, std::vector<int32_t>& out) const {
  for (char c : bytes) {
    const int32_t id = byte_ids_[static_cast<unsigned char>(c)];
    if (id >= 0) {
      out.push_back(id);
    } else if (unk_id_ >= 0) {
      out.push_back(unk_id_);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decode

bool VocabTokenizer::is_skipped_special(int32_t id) const {
  return attrs_[id] == TokenAttr::Control || attrs_[id] == TokenAttr::Unknown;
}

std::string VocabTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;  // unknown ids are skipped, as Hugging Face does
    if (skip_special && is_skipped_special(id)) continue;
    toks.push_back(id_to_text_[id]);
  }
  run_decoders(toks, false, true);
  std::string out;
  for (const auto& t : toks) out += t;
  return out;
}

std::string VocabTokenizer::token_to_piece(int32_t id, bool skip_special) const {
  if (id < 0 || id >= n_vocab()) return {};
  if (skip_special && is_skipped_special(id)) return {};
  return stream_piece(id, false);
}

std::string VocabTokenizer::stream_piece(int32_t id, bool first) const {
  if (id < 0 || id >= n_vocab()) return {};
  std::vector<std::string> toks{id_to_text_[id]};
  run_decoders(toks, true, first);
  std::string out;
  for (const auto& t : toks) out += t;
  return out;
}

}  // namespace pocket::tok
