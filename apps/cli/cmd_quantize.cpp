// `pocket quantize IN OUT TYPE`: IN is a GGUF file or a Hugging Face checkpoint folder (or any
// model reference resolve_model() knows), OUT a GGUF file whose matrices are TYPE (norms and
// other 1-D tensors F32, as llama.cpp keeps them). The conversion streams tensor by tensor.
// --mmproj also writes a folder's vision tower (SmolVLM2, Ministral 3) as a separate mmproj GGUF.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "apps/cli/commands.h"
#include "core/error.h"
#include "core/timer.h"
#include "io/gguf_stream.h"
#include "models/hf_checkpoint.h"
#include "vision/checkpoint.h"
#include "runtime/model_ref.h"

namespace pocket::cli {

void register_quantize(CLI::App& app) {
  struct Opts {
    std::string in, out, type, mmproj;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Write a GGUF with its matrices in TYPE (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, F16, BF16, F32) "
                  "from a GGUF file or a Hugging Face checkpoint folder");
  cmd->add_option("input", o->in, "GGUF file or checkpoint folder (config.json + *.safetensors)")->required();
  cmd->add_option("output", o->out, "GGUF file to write")->required();
  cmd->add_option("type", o->type, "Weight type")->required();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--mmproj", o->mmproj, "Also write the folder's vision tower (SmolVLM2, Ministral 3) as an mmproj GGUF (F16)");
  cmd->callback([o] {
    const auto type = dtype_from_name(o->type);
    POCKET_CHECK(type.has_value(), "unknown type '{}'", o->type);
    const std::string in = resolve_model(o->in).model_path;
    std::error_code ec;
    POCKET_CHECK(!std::filesystem::equivalent(in, o->out, ec), "output '{}' is the input file", o->out);
    const double t0 = now_seconds();
    quantize_model(in, o->out, *type, o->threads);
    std::error_code ec2;
    const auto bytes = std::filesystem::file_size(o->out, ec2);
    std::printf("wrote %s (%s, %.1f MiB) in %.2f s\n", o->out.c_str(), dtype_name(*type),
                ec2 ? 0.0 : static_cast<double>(bytes) / (1 << 20), now_seconds() - t0);
    if (!o->mmproj.empty()) {
      POCKET_CHECK(is_checkpoint_dir(in), "--mmproj needs a checkpoint folder as input");
      auto mm = load_checkpoint_mmproj(in);
      POCKET_CHECK(mm != nullptr, "checkpoint '{}' has no vision tower Pocket can convert", in);
      GgufStreamWriter w;  // the in-memory image, copied as it is
      w.copy_metadata(*mm);
      for (const GgufTensorInfo& t : mm->tensors()) {
        const GgufTensorInfo* src = &t;
        w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims),
                     [src](uint8_t* dst) { std::memcpy(dst, src->data, src->nbytes); });
      }
      w.write_file(o->mmproj);
      std::printf("wrote %s (vision tower)\n", o->mmproj.c_str());
    }
  });
}

}  // namespace pocket::cli
