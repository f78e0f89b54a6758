// `pocket logits`: float32 logits for every position, [n_tokens, n_vocab], for comparison
// with reference implementations.
#include <cstdio>
#include <memory>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "core/error.h"

namespace pocket::cli {

void register_logits(CLI::App& app) {
  auto* cmd = app.add_subcommand("logits", "Write float32 logits for every prompt position");
  struct Args {
    ModelArgs m;
    std::string ids, prompt, out;
  };
  auto a = std::make_shared<Args>();
  a->m.add(cmd);
  auto* ids = cmd->add_option("--ids", a->ids, "Comma-separated token ids");
  auto* p = cmd->add_option("-p,--prompt", a->prompt, "Text (tokenized as llama.cpp does: BOS if the vocab asks, special tokens parsed)");
  ids->excludes(p);
  cmd->add_option("-o,--output", a->out, "Output file (.f32)")->required();
  cmd->callback([a, ids, p] {
    POCKET_CHECK(ids->count() + p->count() == 1, "give exactly one of --ids or -p");
    auto engine = a->m.load();
    std::vector<int32_t> tokens;
    if (ids->count()) {
      tokens = parse_id_list(a->ids);
    } else {
      const Tokenizer& tok = engine->tokenizer();
      tokens = tok.encode(a->prompt, tok.add_bos_default(), true);
    }
    POCKET_CHECK(!tokens.empty(), "no tokens to evaluate");
    for (int32_t id : tokens)
      POCKET_CHECK(id < engine->hparams().n_vocab, "token id {} out of range (n_vocab {})", id, engine->hparams().n_vocab);
    SessionOptions so;
    so.n_ctx = static_cast<int64_t>(tokens.size());
    Session s(*engine, so);
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(a->out.c_str(), "wb"), std::fclose);
    POCKET_CHECK(f, "cannot write '{}'", a->out);
    const size_t nv = static_cast<size_t>(engine->hparams().n_vocab);
    bool ok = true;
    s.eval_all(tokens, [&](int64_t, const float* row) { ok = ok && std::fwrite(row, sizeof(float), nv, f.get()) == nv; });
    POCKET_CHECK(ok && std::fflush(f.get()) == 0, "write to '{}' failed", a->out);
    std::fprintf(stderr, "wrote %zu x %zu logits to %s\n", tokens.size(), nv, a->out.c_str());
  });
}

}  // namespace pocket::cli
