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

void VisionEncoder::check_detail(const ImageDetail& d) const {
  POCKET_CHECK(d.max_tiles >= 0, "image tile cap {}: must be at least 1", d.max_tiles);
  POCKET_CHECK(d.max_tiles == 0 || splits_images(),
               "image tile cap: this model ({} projector) encodes each image whole, not in tiles (detail low fits it in "
               "512 x 512 instead)",
               hp_.projector_name);
}

void VisionEncoder::encode_cached(const float* pixels_chw, int64_t width, int64_t height, std::vector<float>& rows,
                                  ThreadPool& pool) const {
  std::vector<float> emb;
  EmbeddingCache::Key key{};
  if (cache_) {
    key = EmbeddingCache::key_of(pixels_chw, width, height);
    if (cache_->find(key, emb)) {
      rows.insert(rows.end(), emb.begin(), emb.end());
      return;
    }
  }
  encode(pixels_chw, width, height, emb, pool);
  if (cache_) cache_->put(key, emb);
  rows.insert(rows.end(), emb.begin(), emb.end());
}

std::unique_ptr<VisionEncoder> VisionEncoder::load(const std::string& path) { return load(GgufFile::open(path)); }

std::unique_ptr<VisionEncoder> VisionEncoder::load(std::unique_ptr<GgufFile> file) {
  POCKET_CHECK(file != nullptr, "no mmproj file given");
  ClipHParams hp = read_clip_hparams(*file);
  std::unique_ptr<VisionEncoder> enc;
  switch (hp.projector) {
    case ProjectorType::Idefics3:
      enc = std::make_unique<SiglipEncoder>(std::move(file), std::move(hp));
      break;
    case ProjectorType::Pixtral:
      enc = std::make_unique<PixtralEncoder>(std::move(file), std::move(hp));
      break;
  }
  POCKET_CHECK(enc != nullptr, "unsupported projector type");
  enc->set_cache(std::make_shared<EmbeddingCache>(kDefaultEmbeddingCacheBytes));
  return enc;
}

}  // namespace pocket
