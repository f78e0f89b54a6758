// Loading an mmproj file into the encoder of its projector family.
#include "vision/vision_encoder.h"

#include "core/error.h"
#include "io/gguf.h"
#include "vision/pixtral.h"
#include "vision/siglip.h"

namespace pocket {

VisionEncoder::VisionEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp) : file_(std::move(file)), hp_(std::move(hp)) {}

VisionEncoder::~VisionEncoder() = default;

std::vector<float> VisionEncoder::chw_to_hwc(const std::vector<float>& chw, int w, int h) {
  std::vector<float> hwc(chw.size());
  const size_t plane = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) hwc[i * 3 + c] = chw[c * plane + i];
  return hwc;
}

SmolVlmVideoParams VisionEncoder::video_params() const {
  fail("this model ({} projector) has no video input", hp_.projector_name);
}

std::unique_ptr<VisionEncoder> VisionEncoder::load(const std::string& path) { return load(GgufFile::open(path)); }

std::unique_ptr<VisionEncoder> VisionEncoder::load(std::unique_ptr<GgufFile> file) {
  POCKET_CHECK(file != nullptr, "no mmproj file given");
  ClipHParams hp = read_clip_hparams(*file);
  switch (hp.projector) {
    case ProjectorType::Idefics3:
      return std::make_unique<SiglipEncoder>(std::move(file), std::move(hp));
    case ProjectorType::Pixtral:
      return std::make_unique<PixtralEncoder>(std::move(file), std::move(hp));
  }
  fail("unsupported projector type");
}

}  // namespace pocket
