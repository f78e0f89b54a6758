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
  // Ids that end generation (eos, eot, eom, <end_of_utterance>, <|im_end|> ... as the vocab marks them).
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool is_eog(int32_t id) const;

 protected:
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  bool add_bos_ = false;
  std::vector<int32_t> eog_ids_;
};

// Streams token pieces as valid UTF-8: bytes of a character split across tokens are held
// back until the character is complete (invalid sequences are flushed as U+FFFD at the end).
class StreamDecoder {
 public:
  // skip_control: control tokens (e.g. `[/INST]`, `<|im_end|>`) print nothing, as llama-cli
  // shows them only with --special.
  explicit StreamDecoder(const Tokenizer& tok, bool skip_control = false) : tok_(tok), skip_control_(skip_control) {}
  // Returns the text that became printable with this token (possibly empty).
  std::string push(int32_t id);
  // Whatever is still pending, with invalid bytes replaced.
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_control_ = false;
  std::string pending_;
  bool started_ = false;
};

}  // namespace pocket
