// `pocket encode-image`: runs a vision tower (mmproj GGUF) alone on an already-normalized
// image given as raw little-endian float32, height x width x RGB, and writes the embeddings as
// float32 [n_tokens, n_embd] (pixtral: one row per [IMG], row-major over the merged grid, no
// [IMG_BREAK] rows). For comparisons with reference implementations; no decoding or resizing.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/cpu.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "vision/vision_encoder.h"

namespace {

struct EncodeImageArgs {
  std::string mmproj, pixels, out;
  int64_t width = 0, height = 0;
  int threads = 0;
  bool ref_kernels = false;
};

std::vector<float> read_pixels(const std::string& path, int64_t width, int64_t height) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  POCKET_CHECK(!ec, "cannot read '{}': {}", path, ec.message());
  const uint64_t want = static_cast<uint64_t>(width) * static_cast<uint64_t>(height) * 3 * sizeof(float);
  POCKET_CHECK(size == want, "'{}' has {} bytes, expected {} for a {}x{} RGB float32 image", path, size, want, width,
               height);
  std::vector<float> px(static_cast<size_t>(width * height * 3));
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  POCKET_CHECK(f, "cannot open '{}'", path);
  POCKET_CHECK(std::fread(px.data(), sizeof(float), px.size(), f.get()) == px.size(), "short read from '{}'", path);
  return px;
}

void run_encode_image(const EncodeImageArgs& a) {
  if (a.ref_kernels) pocket::kernels::set_isa(pocket::kernels::Isa::Ref);
  auto enc = pocket::VisionEncoder::load(a.mmproj);
  const pocket::VisionEncoder::Grid grid = enc->output_grid(a.width, a.height);  // validates before reading
  const std::vector<float> px = pocket::hwc_to_chw(read_pixels(a.pixels, a.width, a.height).data(), a.width, a.height);
  pocket::ThreadPool pool(a.threads > 0 ? a.threads : pocket::default_thread_count());
  std::vector<float> embd;
  enc->encode(px.data(), a.width, a.height, embd, pool);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(a.out.c_str(), "wb"), std::fclose);
  POCKET_CHECK(f, "cannot write '{}'", a.out);
  POCKET_CHECK(std::fwrite(embd.data(), sizeof(float), embd.size(), f.get()) == embd.size() && std::fflush(f.get()) == 0,
               "write to '{}' failed", a.out);
  std::fprintf(stderr, "wrote %lld x %lld embeddings (grid %lld x %lld, %s) to %s\n",
               static_cast<long long>(grid.rows * grid.cols), static_cast<long long>(enc->n_embd()),
               static_cast<long long>(grid.rows), static_cast<long long>(grid.cols),
               enc->hparams().projector_name.c_str(), a.out.c_str());
}

}  // namespace

void register_encode_image(CLI::App& app) {
  auto* cmd = app.add_subcommand("encode-image", "Run a vision tower on a normalized float32 HWC image");
  auto a = std::make_shared<EncodeImageArgs>();
  cmd->add_option("--mmproj", a->mmproj, "Vision projector (mmproj GGUF)")->required();
  cmd->add_option("--pixels", a->pixels, "Normalized image: float32, height x width x RGB")->required();
  cmd->add_option("--width", a->width, "Image width in pixels")->required()->check(CLI::Range(1, 1 << 15));
  cmd->add_option("--height", a->height, "Image height in pixels")->required()->check(CLI::Range(1, 1 << 15));
  cmd->add_option("-o,--output", a->out, "Output file: float32 [n_tokens, n_embd]")->required();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--ref-kernels", a->ref_kernels, "Use the scalar reference kernels");
  cmd->callback([a] { run_encode_image(*a); });
}
