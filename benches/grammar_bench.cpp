// Cost of the JSON Schema constraint per generated token, on a real vocabulary, measured as the time of
// a constrained draw (Sampler + GrammarConstraint + accept) minus an unconstrained one on the
// same logits. Two logit sources:
//   follows  the model wants to write a valid document (its token is the top logit by a margin,
//            over Gaussian noise): the common case, where the first candidate is allowed;
//   noise    Gaussian noise only: a model that ignores the format, so most draws are refused
//            and the allowed set is enumerated over the vocabulary (the worst case).
// Compare the per-token cost with the decode time per token of the same model (pocket bench).
// Ministral 3's real vocabulary is its tokenizer.json on the Hub (not in ../shared: the tiny GGUF
// there has 1,024 tokens): pass it with --tokenizer-json.
//   pocket-grammar-bench [--gguf PATH | --tokenizer-json PATH] [--tokens 400]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "sampling/json_schema.h"
#include "sampling/logit_processor.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace pocket;
using Clock = std::chrono::steady_clock;

const char* kSchema = R"({"type": "object", "properties": {
  "city": {"type": "string", "maxLength": 40}, "when": {"type": "string", "format": "date"},
  "rank": {"type": "integer", "minimum": 1, "maximum": 5},
  "tags": {"type": "array", "items": {"enum": ["sun", "rain", "wind"]}, "maxItems": 4},
  "note": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"}]},
  "stops": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"},
    "nights": {"type": "integer", "minimum": 0}}, "required": ["name", "nights"], "additionalProperties": false}}},
  "required": ["city", "when", "rank", "tags", "note", "stops"], "additionalProperties": false})";

const char* kDocument = R"({"city": "Lisbon, the city of seven hills", "when": "2026-05-14", "rank": 4, "tags": ["sun", "wind"], "note": "ABC-12", "stops": [{"name": "Sintra", "nights": 2}, {"name": "Porto", "nights": 3}, {"name": "Coimbra", "nights": 1}]})";

struct Result {
  double constrained_ms = 0, free_ms = 0;
  int tokens = 0, enumerations = 0, documents = 0;
};

Result run(const Tokenizer& tok, const TokenPieces& pieces, const VocabOrder& order, const std::shared_ptr<const Grammar>& g,
           bool follows, int n_tokens) {
  const int32_t n_vocab = tok.n_vocab();
  std::vector<int32_t> eog;
  for (int32_t id = 0; id < n_vocab; ++id)
    if (tok.is_eog(id)) eog.push_back(id);
  const std::vector<int32_t> target = tok.encode(kDocument, false, false);
  SamplerParams sp;  // pocket run's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
  sp.seed = 1;
  Sampler constrained(sp, n_vocab), free(sp, n_vocab);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  std::vector<int32_t> history;
  history.reserve(static_cast<size_t>(n_tokens) + 1);
  Result r;
  auto c = std::make_unique<GrammarConstraint>(pieces, order, g, eog);
  size_t k = 0;
  for (int t = 0; t < n_tokens; ++t) {
    for (float& l : logits) l = noise(rng);
    if (follows && k < target.size()) logits[static_cast<size_t>(target[k])] += 12.0f;
    auto t0 = Clock::now();
    (void)free.sample(logits.data(), history);
    auto t1 = Clock::now();
    int32_t id = constrained.sample(logits.data(), history, c.get());
    if (id < 0) {
      ++r.enumerations;
      id = eog.empty() ? 0 : eog[0];
    }
    if (c->active()) c->accept(id);
    auto t2 = Clock::now();
    r.free_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    r.constrained_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    history.push_back(id);
    ++k;
    ++r.tokens;
    if (!c->active() || std::find(eog.begin(), eog.end(), id) != eog.end()) {  // a document ended: start another
      c = std::make_unique<GrammarConstraint>(pieces, order, g, eog);
      k = 0;
      ++r.documents;
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string gguf, tokenizer_json = std::string(POCKET_SHARED_DIR) + "/tokenizers/smolvlm2/tokenizer.json";
  int n_tokens = 400;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--gguf")) gguf = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokenizer-json")) tokenizer_json = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokens")) n_tokens = std::atoi(argv[i + 1]);
  }
  try {
    std::unique_ptr<Tokenizer> tok;
    if (!gguf.empty()) tok = Tokenizer::from_gguf(*GgufFile::open(gguf));
    else tok = Tokenizer::from_tokenizer_json(tokenizer_json);
    const TokenPieces pieces(*tok);
    auto t0 = Clock::now();
    const VocabOrder order(pieces, tok->n_vocab());
    const double order_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    t0 = Clock::now();
    const auto g = compile_json_schema(kSchema);
    const double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("vocabulary: %d tokens (%s); vocabulary order built in %.1f ms; schema compiled in %.2f ms (%zu symbols)\n",
                tok->n_vocab(), gguf.empty() ? tokenizer_json.c_str() : gguf.c_str(), order_ms, compile_ms, g->size());
    for (bool follows : {true, false}) {
      const Result r = run(*tok, pieces, order, g, follows, n_tokens);
      std::printf("%-8s %d tokens, %d documents: constrained draw %.3f ms/token, unconstrained %.3f ms/token, "
                  "constraint cost %.3f ms/token\n",
                  follows ? "follows" : "noise", r.tokens, r.documents, r.constrained_ms / r.tokens, r.free_ms / r.tokens,
                  (r.constrained_ms - r.free_ms) / r.tokens);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
