// libFuzzer target for the tokenizer. The first byte picks a mode:
//   0: the rest is a tokenizer.json text to load (and, if it loads, to use once);
//   1: the rest is text for the real SmolVLM2 tokenizer.json: decode(encode(x)) must give x back
//      for valid UTF-8, also through StreamDecoder;
//   2: as 1, and the GGUF vocabulary of tiny-smol must produce the same ids as tokenizer.json.
// The shared files come from $POCKET_SHARED_DIR or the compile-time path; without them modes 1-2
// do nothing.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string shared_dir() {
  if (const char* env = std::getenv("POCKET_SHARED_DIR")) return env;
#ifdef POCKET_SHARED_DIR
  return POCKET_SHARED_DIR;
#else
  return "../shared";
#endif
}

const pocket::Tokenizer* json_tokenizer() {
  static const std::unique_ptr<pocket::Tokenizer> tok = []() -> std::unique_ptr<pocket::Tokenizer> {
    try {
      return pocket::Tokenizer::from_tokenizer_json(shared_dir() + "/tokenizers/smolvlm2/tokenizer.json");
    } catch (const pocket::Error&) {
      return nullptr;
    }
  }();
  return tok.get();
}

struct GgufTok {
  std::unique_ptr<pocket::GgufFile> file;
  std::unique_ptr<pocket::Tokenizer> tok;
};

const pocket::Tokenizer* gguf_tokenizer() {
  static const std::unique_ptr<GgufTok> g = []() -> std::unique_ptr<GgufTok> {
    try {
      auto r = std::make_unique<GgufTok>();
      r->file = pocket::GgufFile::open(shared_dir() + "/models/tiny-smol-q8_0.gguf");
      r->tok = pocket::Tokenizer::from_gguf(*r->file);
      return r;
    } catch (const pocket::Error&) {
      return nullptr;
    }
  }();
  return g ? g->tok.get() : nullptr;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Bytes the vocabulary cannot represent (SmolLM2 lacks a few byte-level symbols, e.g. 0x06 and
// the lead bytes 0xF1/0xF2): Hugging Face's BPE without unk_token drops them, and so do we, so
// texts containing them cannot round-trip.
bool representable(const pocket::Tokenizer& tok, std::string_view text) {
  static const std::vector<bool> ok = [&tok] {
    std::vector<bool> r(256);
    for (int b = 0; b < 256; ++b) {
      const std::string one(1, static_cast<char>(b));
      r[b] = tok.decode(tok.encode(one, false, false)) == one;
    }
    return r;
  }();
  for (char c : text) {
    if (!ok[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

void check_round_trip(const pocket::Tokenizer& tok, std::string_view text) {
  for (bool special : {false, true}) {
    const auto ids = tok.encode(text, false, special);
    if (tok.decode(ids) != text) __builtin_trap();
    pocket::StreamDecoder sd(tok);
    std::string streamed;
    for (int32_t id : ids) sd.push(id, streamed);
    sd.flush(streamed);
    if (streamed != text) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (mode == 0) {
      const auto tok = pocket::Tokenizer::from_tokenizer_json_text(rest);
      const auto ids = tok->encode("Hello world 123 <s> caf\xc3\xa9", true, true);
      tok->decode(ids);
      for (int32_t id : ids) tok->token_to_piece(id);
      return 0;
    }
    const pocket::Tokenizer* tok = json_tokenizer();
    if (!tok) return 0;
    if (!valid_utf8(rest)) {
      tok->decode(tok->encode(rest, true, true));  // must not crash; bytes may not survive
      return 0;
    }
    if (representable(*tok, rest)) {
      check_round_trip(*tok, rest);
    } else {
      tok->decode(tok->encode(rest, false, true));
    }
    if (mode == 2) {
      const pocket::Tokenizer* g = gguf_tokenizer();
      if (g && g->encode(rest, false, true) != tok->encode(rest, false, true)) __builtin_trap();
    }
  } catch (const pocket::Error&) {
    // malformed input rejected cleanly
  }
  return 0;
}
