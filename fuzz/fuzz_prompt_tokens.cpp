// libFuzzer target for literal caller text in chat prompts (chat/prompt_tokens.h). Input:
// template NUL system NUL user. The request is rendered with literal spans and tokenized with
// tiny-ministral3's Tekken-style vocabulary. Checked: spans are sorted, disjoint and inside the
// text; the ids decode back to the text; without spans the result is encode(text, parse
// special). Template errors are expected and ignored. Needs ../shared (or $POCKET_SHARED_DIR).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "chat/prompt_tokens.h"
#include "core/error.h"
#include "io/gguf.h"

namespace {

struct Vocab {
  std::unique_ptr<pocket::GgufFile> file;
  std::unique_ptr<pocket::Tokenizer> tok;
};

const pocket::Tokenizer* tekken() {
  static const std::unique_ptr<Vocab> v = []() -> std::unique_ptr<Vocab> {
    const char* env = std::getenv("POCKET_SHARED_DIR");
    const std::string dir = env ? env : POCKET_SHARED_DIR;
    try {
      auto r = std::make_unique<Vocab>();
      r->file = pocket::GgufFile::open(dir + "/models/tiny-ministral3-f16.gguf");
      r->tok = pocket::Tokenizer::from_gguf(*r->file);
      return r;
    } catch (const pocket::Error&) {
      return nullptr;
    }
  }();
  return v ? v->tok.get() : nullptr;
}

std::string_view next_field(std::string_view& in) {
  const size_t nul = in.find('\0');
  const std::string_view f = in.substr(0, nul);
  in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const pocket::Tokenizer* tok = tekken();
  if (!tok || size > 8192) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view tmpl_text = next_field(in), system = next_field(in), user = in;
  pocket::ChatRequest req;
  if (!system.empty()) req.messages.push_back(pocket::ChatMessage::from_text("system", std::string(system)));
  req.messages.push_back(pocket::ChatMessage::from_text("user", std::string(user)));
  req.bos_token = "<s>";
  req.eos_token = "</s>";
  pocket::ChatRenderOptions opt;
  opt.now = pocket::ChatClock{};
  opt.max_output_bytes = 1 << 16;
  opt.max_work = 2'000'000;
  pocket::LiteralPrompt p;
  try {
    p = pocket::render_with_literal_spans(pocket::ChatTemplate(tmpl_text), req, opt);
  } catch (const pocket::Error&) {
    return 0;
  }
  size_t end = 0;
  for (const pocket::TextSpan& s : p.literal) {
    if (s.begin < end || s.end <= s.begin || s.end > p.text.size()) std::abort();
    end = s.end;
  }
  const std::vector<int32_t> ids = pocket::tokenize_chat_prompt(*tok, p.text, p.literal);
  if (tok->decode(ids) != p.text) std::abort();
  if (tok->encode_with_literal(p.text, false, {}) != tok->encode(p.text, false, true)) std::abort();
  return 0;
}
