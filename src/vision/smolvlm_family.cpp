// The SmolVLM2 (idefics3 projector) family's media rules: images are loaded as transformers'
// load_image does, split into tiles plus a global tile with <row_r_col_c> markers; videos are
// sampled into one tile per frame with timestamps, rendered by the processor's own template.
// ref: transformers models/smolvlm/processing_smolvlm.py, image_processing_smolvlm.py.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "media/png_write.h"
#include "vision/siglip.h"
#include "vision/smolvlm_prompt.h"

namespace pocket {

SmolVlmParams SiglipEncoder::preprocess_params() const {
  const int64_t longest = hp_.preproc_image_size > 0 ? hp_.preproc_image_size : 4 * hp_.image_size;
  SmolVlmParams p = smolvlm_params_for(static_cast<int>(hp_.image_size), static_cast<int>(longest),
                                       static_cast<int>(hp_.patch_size), static_cast<int>(hp_.scale_factor));
  p.image_mean = hp_.image_mean;
  p.image_std = hp_.image_std;
  return p;
}

// The reference processor with a smaller size.longest_edge, a multiple of the tile (the way
// SmolVLM's model card lowers the tile count: longest_edge = N * 512): the largest that plans
// at most max_tiles tiles. A longest edge of one tile never splits, so a cap always fits.
// "low" is do_image_splitting=False (ref: image_processing_smolvlm.py: the image is resized to
// longest_edge, then squared to one tile).
SmolVlmParams SiglipEncoder::params_for(int width, int height, const ImageDetail& d) const {
  check_detail(d);
  SmolVlmParams p = preprocess_params();
  if (d.low) {
    p.do_image_splitting = false;
    return p;
  }
  if (d.max_tiles <= 0 || smolvlm_plan(width, height, p).num_tiles <= d.max_tiles) return p;
  for (int k = (p.longest_edge - 1) / p.tile_size; k >= 1; --k) {
    p.longest_edge = k * p.tile_size;
    if (smolvlm_plan(width, height, p).num_tiles <= d.max_tiles) break;
  }
  return p;
}

// ref: transformers image_utils.load_image (EXIF transpose, then RGB).
Image SiglipEncoder::load_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) const {
  return load_image_rgb(bytes, limits);
}

Image SiglipEncoder::load_image_file(const std::string& path, const DecodeLimits& limits) const {
  return load_image_rgb(path, limits);
}

SmolVlmVideoParams SiglipEncoder::video_params() const {
  const SmolVlmParams ip = preprocess_params();
  SmolVlmVideoParams vp;
  vp.longest_edge = ip.longest_edge;
  vp.tile_size = ip.tile_size;
  vp.image_seq_len = ip.image_seq_len;
  return vp;
}

// The shipped template has no video branch; the processor substitutes this one when a
// message holds a video. ref: processing_smolvlm.py DEFAULT_CHAT_TEMPLATE.
std::string SiglipEncoder::video_chat_template() const {
  return "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == "
         "'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' "
         "%}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% elif line['type'] == 'video' %}{{ "
         "'<video>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ "
         "'Assistant:' }}{% endif %}";
}

// Hugging Face parses special tokens everywhere, so caller text gets no literal spans here:
// placeholders of both kinds are taken in text order.
MediaExpansion SiglipEncoder::expand(const std::string& rendered, const std::vector<TextSpan>& /*literal*/,
                                     const PromptMedia& media, ThreadPool& pool) const {
  MediaExpansion out;
  out.image_token = "<image>";
  const SmolVlmParams params = preprocess_params();
  const int64_t tile = hp_.image_size;
  // Text and tiles first (every tile is a tile x tile RGB image, a few hundred KB), so that
  // progress can say "tile i of N"; then the tower.
  std::vector<Image> tiles;
  size_t pos = 0, next_image = 0, next_video = 0;
  for (;;) {
    const size_t pi = rendered.find("<image>", pos), pv = rendered.find("<video>", pos);
    const size_t p = std::min(pi, pv);
    out.text += rendered.substr(pos, p == std::string::npos ? std::string::npos : p - pos);
    if (p == std::string::npos) break;
    if (p == pi) {
      POCKET_CHECK(next_image < media.images.size(), "the prompt has more image placeholders than images ({})",
                   media.images.size());
      const Image& image = media.images[next_image];
      const SmolVlmParams ip = params_for(image.width, image.height, media.detail_of(next_image++));
      SmolVlmImage si = smolvlm_preprocess(image, ip);
      for (SmolVlmTile& t : si.tiles) tiles.push_back(std::move(t.rgb));
      out.text += smolvlm_image_prompt(si.plan.rows, si.plan.cols, params.image_seq_len);
    } else {
      POCKET_CHECK(next_video < media.videos.size(), "the prompt has more video placeholders than videos ({})",
                   media.videos.size());
      const SmolVlmVideo& v = media.videos[next_video++];
      tiles.insert(tiles.end(), v.tiles.begin(), v.tiles.end());
      out.text += smolvlm_video_prompt(v.plan.timestamps, v.info.duration, params.image_seq_len);
    }
    pos = p + 7;  // both placeholders are 7 bytes
  }
  POCKET_CHECK(next_image == media.images.size() && next_video == media.videos.size(),
               "{} images and {} videos given but the prompt places {} and {}", media.images.size(),
               media.videos.size(), next_image, next_video);
  for (const Image& rgb : tiles) {
    POCKET_CHECK(rgb.width == tile && rgb.height == tile, "tile of {}x{} pixels, expected {}", rgb.width, rgb.height, tile);
    const std::vector<float> chw = smolvlm_pixel_values(rgb, params);
    encode_cached(chw.data(), tile, tile, out.rows, pool);
    ++out.n_tiles;
    if (media.progress) media.progress(out.n_tiles, static_cast<int64_t>(tiles.size()));
  }
  return out;
}

// A still image is always split into crops + a global tile, so one tile is a single frame
// (frames are never split).
PromptMedia SiglipEncoder::one_tile_media(const std::function<Image(int, int)>& make) const {
  const SmolVlmVideoParams vp = video_params();
  SmolVlmVideo one;
  one.tiles.push_back(make(vp.tile_size, vp.tile_size));
  one.plan.timestamps = {"00:00"};
  one.info.duration = 1.0;
  one.num_image_tokens = vp.image_seq_len;
  PromptMedia m;
  m.videos.push_back(std::move(one));
  return m;
}

namespace {

using Json = nlohmann::ordered_json;

Json plan_json(const SmolVlmPlan& p) {
  Json j = Json::object();
  j["resized_size"] = Json::array({p.resized_w, p.resized_h});
  j["snapped_size"] = Json::array({p.snapped_w, p.snapped_h});
  j["rows"] = p.rows;
  j["cols"] = p.cols;
  j["num_tiles"] = p.num_tiles;
  j["num_image_tokens"] = p.num_image_tokens;
  return j;
}

}  // namespace

// plan.json + every tile as an 8-bit RGB PNG (model order, global tile last, before
// rescale/normalize).
PreprocessDump SiglipEncoder::preprocess_dump(const Image& image, const ImageDetail& detail) const {
  const SmolVlmImage si = smolvlm_preprocess(image, params_for(image.width, image.height, detail));
  PreprocessDump d;
  for (size_t k = 0; k < si.tiles.size(); ++k) d.files.emplace_back("tile" + std::to_string(k) + ".png", encode_png_rgb(si.tiles[k].rgb));
  Json plan = plan_json(si.plan);
  plan["prompt"] = smolvlm_image_prompt(si.plan.rows, si.plan.cols, preprocess_params().image_seq_len);
  d.plan_json = plan.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  d.summary = fmt::format("{}x{} -> {} tiles ({} x {} + global)", image.width, image.height, si.plan.num_tiles,
                          si.plan.rows, si.plan.cols);
  return d;
}

std::string SiglipEncoder::size_plan_json(int width, int height, const ImageDetail& detail) const {
  return plan_json(smolvlm_plan(width, height, params_for(width, height, detail))).dump();
}

int64_t SiglipEncoder::planned_image_tokens(int width, int height, const ImageDetail& detail) const {
  return smolvlm_plan(width, height, params_for(width, height, detail)).num_image_tokens;
}

}  // namespace pocket
