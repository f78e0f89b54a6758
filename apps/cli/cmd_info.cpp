// `pocket info MODEL.gguf`: metadata and tensor list (names, types, shapes).
#include <cstdio>

#include "apps/cli/commands.h"
#include "io/gguf.h"

namespace pocket::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a GGUF file's metadata and tensors");
  auto path = std::make_shared<std::string>();
  cmd->add_option("model", *path, "GGUF file")->required();
  cmd->callback([path] {
    auto f = GgufFile::open(*path);
    std::printf("file: %s\nversion: %u\nalignment: %llu\nmetadata: %zu keys\n", path->c_str(), f->version(),
                static_cast<unsigned long long>(f->alignment()), f->metadata().size());
    for (const auto& [k, v] : f->metadata()) {
      std::printf("  %-48s %-8s %s\n", k.c_str(), gguf_type_name(v.type), v.to_display().c_str());
    }
    std::printf("tensors: %zu\n", f->tensors().size());
    uint64_t total = 0;
    for (const GgufTensorInfo& t : f->tensors()) {
      std::string shape = "[";
      for (int d = 0; d < t.n_dims; ++d) shape += (d ? ", " : "") + std::to_string(t.ne[d]);
      shape += "]";
      std::printf("  %-40s %-6s %-20s %12zu bytes\n", t.name.c_str(), dtype_name(t.type), shape.c_str(), t.nbytes);
      total += t.nbytes;
    }
    std::printf("tensor data: %.2f MiB\n", total / 1048576.0);
  });
}

}  // namespace pocket::cli
