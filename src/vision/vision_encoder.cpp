// Loading an mmproj file into the encoder of its projector family.
#include "vision/vision_encoder.h"

#include "core/error.h"
#include "io/gguf.h"
#include "vision/pixtral.h"
#include "vision/siglip.h"

namespace pocket {

VisionEncoder::VisionEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp) : file_(std::move(file)), hp_(std::move(hp)) {}

VisionEncoder::~VisionEncoder() = default;

std::vector<float> hwc_to_chw(const float* hwc, int64_t width, int64_t height) {
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<float> chw(3 * plane);
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c) chw[c * plane + i] = hwc[i * 3 + c];
  return chw;
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
