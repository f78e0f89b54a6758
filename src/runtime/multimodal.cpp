// Placeholder expansion, tokenization and image encoding for multimodal prompts.
#include "runtime/multimodal.h"

#include "core/error.h"
#include "core/timer.h"
#include "media/pixtral_preprocess.h"
#include "media/smolvlm_preprocess.h"

namespace pocket {

namespace {

std::vector<std::string> split_on(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    const size_t j = s.find(sep, i);
    if (j == std::string::npos) {
      parts.push_back(s.substr(i));
      return parts;
    }
    parts.push_back(s.substr(i, j - i));
    i = j + sep.size();
  }
}

int32_t require_token(const Tokenizer& tok, const std::string& text) {
  auto id = tok.token_id(text);
  POCKET_CHECK(id.has_value(), "the model's vocabulary has no '{}' token", text);
  return *id;
}

}  // namespace

SmolVlmParams smolvlm_params(const VisionEncoder& enc) {
  const ClipHParams& hp = enc.hparams();
  const int64_t longest = hp.preproc_image_size > 0 ? hp.preproc_image_size : 4 * hp.image_size;
  SmolVlmParams p = smolvlm_params_for(static_cast<int>(hp.image_size), static_cast<int>(longest),
                                       static_cast<int>(hp.patch_size), static_cast<int>(hp.scale_factor));
  p.image_mean = hp.image_mean;
  p.image_std = hp.image_std;
  return p;
}

PixtralParams pixtral_params(const VisionEncoder& enc) {
  const ClipHParams& hp = enc.hparams();
  PixtralParams p;
  p.max_image_size = static_cast<int>(hp.image_size);
  p.patch_size = static_cast<int>(hp.patch_size);
  p.spatial_merge_size = static_cast<int>(hp.spatial_merge);
  for (int c = 0; c < 3; ++c) {
    p.image_mean[c] = hp.image_mean[c];
    p.image_std[c] = hp.image_std[c];
  }
  return p;
}

namespace {

// [3, h, w] -> [h, w, 3]
std::vector<float> chw_to_hwc(const std::vector<float>& chw, int w, int h) {
  std::vector<float> hwc(chw.size());
  const size_t plane = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) hwc[i * 3 + c] = chw[c * plane + i];
  return hwc;
}

}  // namespace

std::string image_placeholder(const VisionEncoder& enc) {
  return enc.projector() == ProjectorType::Pixtral ? "[IMG]" : "<image>";
}

Image load_image_for(const VisionEncoder& enc, const std::string& path) {
  // ref: transformers image_utils.load_image (EXIF transpose + RGB) for SmolVLM2;
  // mistral-common reads the image as stored and composites alpha on white itself.
  return enc.projector() == ProjectorType::Pixtral ? decode_image_file(path) : load_image_rgb(path);
}

MultimodalPrompt build_multimodal_prompt(const Engine& engine, const VisionEncoder& enc, const std::string& rendered,
                                         const std::vector<Image>& images, ThreadPool& pool) {
  const Tokenizer& tok = engine.tokenizer();
  const int64_t d_model = engine.hparams().d_model;
  POCKET_CHECK(enc.n_embd() == d_model, "the projector outputs {}-wide embeddings but the text model expects {}",
               enc.n_embd(), d_model);
  const std::string placeholder = image_placeholder(enc);
  const std::vector<std::string> pieces = split_on(rendered, placeholder);
  POCKET_CHECK(pieces.size() - 1 == images.size(), "the prompt has {} image placeholders but {} images were given",
               pieces.size() - 1, images.size());

  MultimodalPrompt out;
  const double t0 = now_seconds();
  std::vector<float>& rows = out.storage;
  int32_t image_id = -1;
  std::string text = pieces[0];
  if (enc.projector() == ProjectorType::Pixtral) {
    image_id = require_token(tok, "[IMG]");
    require_token(tok, "[IMG_BREAK]");
    require_token(tok, "[IMG_END]");
    const PixtralParams params = pixtral_params(enc);
    for (size_t k = 0; k < images.size(); ++k) {
      PixtralImage pi = pixtral_preprocess(images[k], params);
      const std::vector<float> hwc = chw_to_hwc(pi.pixels, pi.plan.out_w, pi.plan.out_h);
      std::vector<float> emb;
      enc.encode(hwc.data(), pi.plan.out_w, pi.plan.out_h, emb, pool);
      rows.insert(rows.end(), emb.begin(), emb.end());
      for (PixtralToken t : pixtral_token_layout(pi.plan))
        text += t == PixtralToken::Img ? "[IMG]" : t == PixtralToken::ImgBreak ? "[IMG_BREAK]" : "[IMG_END]";
      text += pieces[k + 1];
      ++out.n_tiles;
    }
  } else {
    image_id = require_token(tok, "<image>");
    const SmolVlmParams params = smolvlm_params(enc);
    const int64_t tile = enc.hparams().image_size;
    for (size_t k = 0; k < images.size(); ++k) {
      SmolVlmImage si = smolvlm_preprocess(images[k], params);
      for (const SmolVlmTile& t : si.tiles) {
        const std::vector<float> hwc = chw_to_hwc(smolvlm_pixel_values(t.rgb, params), t.rgb.width, t.rgb.height);
        POCKET_CHECK(t.rgb.width == tile && t.rgb.height == tile, "tile of {}x{} pixels, expected {}", t.rgb.width,
                     t.rgb.height, tile);
        std::vector<float> emb;
        enc.encode(hwc.data(), tile, tile, emb, pool);
        rows.insert(rows.end(), emb.begin(), emb.end());
        ++out.n_tiles;
      }
      text += si.prompt;
      text += pieces[k + 1];
    }
  }
  out.encode_seconds = now_seconds() - t0;

  out.tokens = tok.encode(text, false, true);
  const int64_t n_rows = static_cast<int64_t>(rows.size()) / d_model;
  out.embd.assign(out.tokens.size(), nullptr);
  int64_t next = 0;
  for (size_t i = 0; i < out.tokens.size(); ++i) {
    if (out.tokens[i] != image_id) continue;
    POCKET_CHECK(next < n_rows, "the prompt text contains more image tokens than the images produce ({})", n_rows);
    out.embd[i] = rows.data() + next * d_model;
    ++next;
  }
  POCKET_CHECK(next == n_rows, "image token count mismatch: {} positions for {} embeddings", next, n_rows);
  out.n_image_tokens = n_rows;
  out.text = std::move(text);
  return out;
}

}  // namespace pocket
