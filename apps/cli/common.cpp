// Shared CLI helpers.
#include "apps/cli/common.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "kernels/dispatch.h"
#include "runtime/model_ref.h"

namespace pocket::cli {

void ModelArgs::add(CLI::App* cmd, bool with_ref_kernels) {
  cmd->add_option("-m,--model", model, "Model: GGUF file, checkpoint directory, short name or Hub repo")->required();
  cmd->add_option("-t,--threads", threads, "Threads (default: physical cores)")->check(CLI::Range(0, 1024));
  if (with_ref_kernels) cmd->add_flag("--ref-kernels", ref_kernels, "Use the scalar reference kernels");
  cmd->add_flag("--no-repack", no_repack,
                "Keep every weight in the file's layout, memory-mapped (less resident memory; slower prefill and decode)");
  cmd->add_option("--quant", quant,
                  "Checkpoint folders only: type their matrices are quantized to at load (Q8_0, Q4_0, Q4_K, Q6_K, F16...)")
      ->capture_default_str();
  cmd->add_option("--chat-template-file", chat_template_file,
                  "A Jinja chat template to use instead of the model's own (e.g. a reasoning variant's)");
}

std::unique_ptr<Engine> ModelArgs::load() const {
  EngineOptions o;
  o.n_threads = threads;
  // The reference kernels are a process-wide dispatch choice (like an ISA override), made
  // here by the command, not by the engine; they read weights in the file's layout.
  if (ref_kernels) kernels::set_isa(kernels::Isa::Ref);
  o.no_repack = no_repack || ref_kernels;
  const auto q = dtype_from_name(quant);
  POCKET_CHECK(q.has_value(), "--quant: unknown type '{}'", quant);
  o.quant = *q;
  if (!chat_template_file.empty()) {
    o.chat_template = read_file(chat_template_file);
    POCKET_CHECK(!o.chat_template.empty(), "--chat-template-file: {} is empty", chat_template_file);
  }
  return Engine::load(resolve_model(model).model_path, o);
}

void ImageDetailArgs::add(CLI::App* cmd) {
  cmd->add_option("--image-max-tiles", max_tiles,
                  "SmolVLM2: encode each image in at most N tiles, global tile included (a smaller longest edge, as "
                  "transformers' size.longest_edge = k * tile); default: the reference tiling, up to 17")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--no-image-splitting", no_splitting,
                "SmolVLM2: encode only the global tile (transformers' do_image_splitting=False)");
  cmd->add_option("--image-detail", detail,
                  "low: the cheapest encoding (SmolVLM2: no splitting; Pixtral: fit in 512x512); high/auto: the reference")
      ->check(CLI::IsMember({"low", "high", "auto"}));
}

ImageDetail ImageDetailArgs::resolve(const VisionEncoder& enc) const {
  ImageDetail d;
  d.low = no_splitting || detail == "low";
  d.max_tiles = max_tiles;
  POCKET_CHECK(!no_splitting || enc.splits_images(),
               "--no-image-splitting: this model ({} projector) does not split images into tiles; --image-detail low "
               "fits an image in 512x512",
               enc.hparams().projector_name);
  POCKET_CHECK(max_tiles == 0 || enc.splits_images(),
               "--image-max-tiles: this model ({} projector) encodes each image whole, not in tiles; --image-detail low "
               "fits an image in 512x512",
               enc.hparams().projector_name);
  POCKET_CHECK(!(d.low && max_tiles > 0), "--image-max-tiles and low detail (no splitting) together: pick one");
  enc.check_detail(d);
  return d;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  POCKET_CHECK(static_cast<bool>(f), "cannot open '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  POCKET_CHECK(!f.bad(), "cannot read '{}'", path);
  return ss.str();
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary);
  POCKET_CHECK(static_cast<bool>(f), "cannot write '{}'", path);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.flush();
  POCKET_CHECK(f.good(), "write to '{}' failed", path);
}

std::vector<int32_t> parse_id_list(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(part.c_str(), &end, 10);
    POCKET_CHECK(!part.empty() && end && *end == '\0' && errno == 0 && v >= 0 && v <= INT32_MAX,
                 "invalid token id '{}' in --ids", part);
    ids.push_back(static_cast<int32_t>(v));
    i = j + 1;
  }
  POCKET_CHECK(!ids.empty(), "--ids is empty");
  return ids;
}

}  // namespace pocket::cli
