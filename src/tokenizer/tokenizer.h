// Text <-> token ids. One Tokenizer type serves vocabularies from GGUF metadata
// (tokenizer.ggml.*) and from Hugging Face tokenizer.json; both reproduce Hugging Face's ids.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pocket {

class GgufFile;

enum class TokenAttr : uint8_t { Normal, Control, UserDefined, Unknown, Byte, Unused };

// A byte range [begin, end) of a text.
struct TextSpan {
  size_t begin = 0, end = 0;
  bool operator==(const TextSpan&) const = default;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Throws pocket::Error when the vocabulary is missing or malformed.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& f);
  static std::unique_ptr<Tokenizer> from_tokenizer_json(const std::string& path);
  static std::unique_ptr<Tokenizer> from_tokenizer_json_text(std::string_view json);

  // add_bos: prepend BOS when the vocabulary asks for it (GGUF tokenizer.ggml.add_bos_token,
  // or tokenizer.json's post-processor). parse_special: control/user-defined tokens written
  // in the text are matched whole (as llama.cpp's parse_special and HF's added tokens do).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const = 0;
  // Like encode(text, add_bos, true), except that special (control) token text starting
  // inside one of the `literal` byte ranges is encoded as ordinary text: caller text (message
  // contents) keeps its bytes while the chat template's own markers stay control tokens.
  // The ranges must be sorted and disjoint. Only special-token matching changes:
  // pre-tokenization and BPE see the same fragments as encode(), so text without special
  // strings gets exactly encode()'s ids. A match that starts before a range belongs to the
  // template and stays special; one that starts inside is text up to the range's end.
  virtual std::vector<int32_t> encode_with_literal(std::string_view text, bool add_bos,
                                                   const std::vector<TextSpan>& literal) const = 0;
  // Concatenated bytes of the tokens (control tokens rendered unless skip_special).
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const = 0;
  // Raw bytes of one token (may be an incomplete UTF-8 sequence).
  virtual std::string token_to_piece(int32_t id, bool skip_special = false) const = 0;
  // Like token_to_piece, for streaming: `first` says whether this is the first piece of the
  // text, where decoders drop a leading space (SentencePiece/Metaspace) as decode() does.
  virtual std::string stream_piece(int32_t id, bool /*first*/) const { return token_to_piece(id); }

  virtual int32_t n_vocab() const = 0;
  virtual std::optional<int32_t> token_id(std::string_view token_text) const = 0;
  virtual std::string token_text(int32_t id) const = 0;  // the vocabulary string as stored
  virtual TokenAttr token_attr(int32_t id) const = 0;

  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  bool add_bos_default() const { return add_bos_; }
  // Whether the model's reference tokenizer never produces special tokens from caller text.
  // True for Tekken vocabularies (Mistral/Ministral 3: mistral-common encodes message text
  // as ordinary bytes and inserts control tokens by id only); false for Hugging Face
  // tokenizers, whose AddedVocabulary splits special tokens out of any input text (the
  // behaviour llama.cpp's parse_special reproduces). Chat prompts use it to decide between
  // encode_with_literal() and encode(text, false, true) (chat/prompt_tokens.h).
  bool literal_control_text() const { return literal_control_text_; }
  void set_literal_control_text(bool on) { literal_control_text_ = on; }
  // Ids that end generation (eos, eot, eom, <end_of_utterance>, <|im_end|> ... as the vocab marks them).
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool is_eog(int32_t id) const;

 protected:
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  bool add_bos_ = false;
  bool literal_control_text_ = false;
  std::vector<int32_t> eog_ids_;
};

// Every token's bytes (Tokenizer::stream_piece, not first) and kind, built once per model:
// looking a piece up per generated token must not build a string, which would be the decode
// loop's only allocation.
class TokenPieces {
 public:
  explicit TokenPieces(const Tokenizer& tok);
  std::string_view piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  bool is_text(int32_t id) const { return kind_[static_cast<size_t>(id)] == 0; }     // Normal or Byte
  bool is_control(int32_t id) const { return kind_[static_cast<size_t>(id)] == 2; }  // [INST], <|im_end|>, ...

 private:
  std::vector<std::string> pieces_;  // [n_vocab]
  std::vector<uint8_t> kind_;        // [n_vocab] 0 text/byte, 1 other special, 2 control
};

// The one UTF-8 streamer of token pieces: bytes of a character split across tokens are held
// back until the character is complete; invalid sequences become U+FFFD (at the end, what is
// still pending). The first piece follows decode()'s leading-space rule (stream_piece(id,
// true)); later pieces come from `pieces` when given, without allocating.
class StreamDecoder {
 public:
  // skip_control: control tokens (e.g. `[/INST]`, `<|im_end|>`) print nothing, as llama-cli
  // shows them only with --special.
  // keep: control tokens printed even when skipping the others (sorted ids; e.g. the tool-call
  // markers a parser needs).
  explicit StreamDecoder(const Tokenizer& tok, bool skip_control = false, const TokenPieces* pieces = nullptr,
                         std::vector<int32_t> keep = {})
      : tok_(tok), pieces_(pieces), skip_control_(skip_control), keep_(std::move(keep)) {}
  // Appends the text that became printable with this token (possibly nothing) to `out`.
  void push(int32_t id, std::string& out);
  // Appends whatever is still pending, with invalid bytes replaced.
  void flush(std::string& out);

 private:
  const Tokenizer& tok_;
  const TokenPieces* pieces_ = nullptr;
  bool skip_control_ = false;
  std::vector<int32_t> keep_;
  std::string pending_;
  bool started_ = false;
};

}  // namespace pocket
