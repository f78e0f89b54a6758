// Internal representation shared by both loaders: a vocabulary, a BPE (merge-rank) or SPM
// (score) model, and Hugging Face-style normalizer / pre-tokenizer / decoder pipelines.
// tokenizer_json.cpp and tokenizer_gguf.cpp only fill a VocabTokenizer; all behaviour lives here,
// so the GGUF path and the tokenizer.json path cannot drift apart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"

namespace pocket::tok {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TextMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// One pre-token: bytes, and whether it begins at offset 0 of the whole input (Metaspace "first").
struct Piece {
  std::string text;
  bool at_start = false;
};

// ref: huggingface/tokenizers src/tokenizer/normalizer.rs (SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// What a split looks for: regex matches, a literal string, or single characters.
struct SplitPattern {
  enum class Kind { Regex, Literal, Numeric, Whitespace, Punctuation, Char } kind = Kind::Regex;
  std::shared_ptr<Regex> re;
  std::string literal;
  int32_t cp = 0;  // Kind::Char
  bool invert = false;
};

struct PreTokStep {
  enum class Kind { Split, ByteLevel, Metaspace } kind = Kind::Split;
  SplitPattern pattern;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool add_prefix_space = false;  // ByteLevel
  bool use_regex = true;          // ByteLevel
  std::string replacement;        // Metaspace
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;              // Metaspace
};

struct NormStep {
  enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip } kind = Kind::NFC;
  std::shared_ptr<Regex> re;  // Replace with a regex
  std::string literal;        // Replace with a string pattern
  std::string content;        // Replace content / Prepend text
  bool left = false, right = false;  // Strip
};

struct DecodeStep {
  enum class Kind { ByteLevel, ByteFallback, Metaspace, Replace, Fuse, Strip, BpeSuffix } kind = Kind::ByteLevel;
  std::shared_ptr<Regex> re;
  std::string literal, content;  // Replace; BpeSuffix uses content as the suffix
  int32_t cp = 0;                // Metaspace replacement / Strip content
  bool prepend_never = false;    // Metaspace
  int start = 0, stop = 0;       // Strip
};

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = false;
};

// Byte-wise trie over added-token contents for leftmost-longest matching.
class TokenTrie {
 public:
  void insert(std::string_view s, int32_t value);
  bool empty() const { return n_nodes_ <= 1; }
  // Longest entry that starts at text[pos]: returns its value and length, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t& len) const;

 private:
  std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child
  std::vector<int32_t> value_{-1};               // per node
  int32_t n_nodes_ = 1;
};

enum class ModelKind { Bpe, Spm };

class VocabTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;
  std::vector<int32_t> encode_with_literal(std::string_view text, bool add_bos,
                                           const std::vector<TextSpan>& literal) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string token_to_piece(int32_t id, bool skip_special = false) const override;
  std::string stream_piece(int32_t id, bool first) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(id_to_text_.size()); }
  std::optional<int32_t> token_id(std::string_view token_text) const override;
  std::string token_text(int32_t id) const override;
  TokenAttr token_attr(int32_t id) const override;

  // ---- filled by the loaders ----
  // Sets the id -> text table (texts may repeat: the first id wins text lookups; empty texts
  // are holes that never match). Throws on inconsistent lengths.
  void set_vocab(std::vector<std::string> texts, std::vector<TokenAttr> attrs, std::vector<float> scores);
  // Adds merge (a, b) with the next rank; throws when a, b or a+b is not in the vocabulary.
  void add_merge(std::string_view a, std::string_view b);
  void set_added_tokens(std::vector<AddedToken> added);  // builds the tries
  // Resolves byte tokens and EOG ids once everything else is set; validates ids.
  void finalize(int32_t eot_id, int32_t eom_id);

  ModelKind kind_ = ModelKind::Bpe;
  bool byte_level_ = true;       // BPE input bytes go through the GPT-2 byte map
  bool byte_fallback_ = false;   // unknown chars become <0xXX> tokens
  bool ignore_merges_ = false;   // look a whole pre-token up before merging
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;          // model's unknown token (-1: drop unknown chars)
  std::string cont_prefix_, eow_suffix_;
  bool add_space_prefix_ = false;  // SPM (llama.cpp): prefix text fragments with a space
  bool strip_decoded_space_ = false;  // drop the leading space of decoded text (SPM)
  std::vector<NormStep> normalizers_;
  std::vector<PreTokStep> pre_tokenizers_;
  std::vector<DecodeStep> decoders_;
  std::vector<int32_t> prefix_ids_, suffix_ids_;  // added when encode(add_bos=true)
  void set_specials(int32_t bos, int32_t eos, bool add_bos) {
    bos_id_ = bos;
    eos_id_ = eos;
    add_bos_ = add_bos;
  }
  const TextMap& text_to_id() const { return text_to_id_; }
  // llama.cpp forces end-of-generation tokens to control type.
  void mark_control(int32_t id) {
    if (attrs_[id] != TokenAttr::Control) attrs_[id] = TokenAttr::Control;
  }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  std::vector<int32_t> encode_impl(std::string_view text, bool add_bos, bool parse_special,
                                   const std::vector<TextSpan>* literal) const;
  void encode_fragment(std::string_view text, bool at_start, bool prev_special, std::vector<int32_t>& out) const;
  void normalize(std::string& s) const;
  std::vector<Piece> pre_tokenize(std::string text, bool at_start) const;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  void bpe_merge(std::vector<int32_t>& syms) const;
  void spm_text(std::string_view text, std::vector<int32_t>& out) const;
  void push_unknown_bytes(std::string_view bytes, std::vector<int32_t>& out) const;
  void run_decoders(std::vector<std::string>& toks, bool stream, bool first) const;
  bool is_skipped_special(int32_t id) const;

  std::vector<std::string> id_to_text_;
  std::vector<TokenAttr> attrs_;
  std::vector<float> scores_;
  TextMap text_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t n_merges_ = 0;
  std::vector<AddedToken> added_;
  std::vector<int32_t> added_index_;  // id -> index into added_, or -1
  TokenTrie raw_trie_, norm_trie_;    // values: index into added_
  int32_t byte_ids_[256];             // byte-level char token, or <0xXX> token, per byte
  int32_t max_token_len_ = 0;
};

}  // namespace pocket::tok
