// The Pixtral (Ministral 3) family's media rules: images are read as stored (mistral-common
// composites alpha on white itself), resized to a grid of patch·merge units, and written as
// rows of [IMG] separated by [IMG_BREAK], ended by [IMG_END]. No video input. Caller text stays
// literal (Tekken): a typed "[IMG]" inside a message is text, not an image slot.
// ref: mistral-common src/mistral_common/tokens/tokenizers/image.py (ImageEncoder).
#include <algorithm>
#include <bit>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "vision/pixtral.h"

namespace pocket {

namespace {

// Text between placeholders, with the caller-text spans that fall inside it (re-based).
struct TextPart {
  std::string text;
  std::vector<TextSpan> literal;
};

// Splits `s` at each `sep` that lies outside every literal span (caller text keeps a typed
// placeholder as text).
std::vector<TextPart> split_on(const std::string& s, const std::string& sep, const std::vector<TextSpan>& literal) {
  std::vector<TextPart> parts;
  size_t i = 0, from = 0, li = 0;
  auto part = [&](size_t b, size_t e) {
    TextPart p;
    p.text = s.substr(b, e - b);
    for (; li < literal.size() && literal[li].begin < e; ++li)
      p.literal.push_back({std::max(literal[li].begin, b) - b, std::min(literal[li].end, e) - b});
    parts.push_back(std::move(p));
  };
  for (;;) {
    const size_t j = s.find(sep, from);
    if (j == std::string::npos) {
      part(i, s.size());
      return parts;
    }
    const auto inside = std::find_if(literal.begin(), literal.end(),
                                     [&](const TextSpan& r) { return r.begin < j + sep.size() && j < r.end; });
    if (inside != literal.end()) {
      from = j + 1;
      continue;
    }
    part(i, j);
    i = from = j + sep.size();
  }
}

// Appends a part to `text`, moving its spans along.
void append(std::string& text, std::vector<TextSpan>& literal, const TextPart& p) {
  for (const TextSpan& r : p.literal) literal.push_back({r.begin + text.size(), r.end + text.size()});
  text += p.text;
}

}  // namespace

// detail low: mistral-common's ImageEncoder with max_image_size 512 (OpenAI's low detail is a
// 512 x 512 image), never larger than the model's own maximum.
PixtralParams PixtralEncoder::preprocess_params(const ImageDetail& detail) const {
  check_detail(detail);
  PixtralParams p;
  p.max_image_size = static_cast<int>(detail.low ? std::min<int64_t>(512, hp_.image_size) : hp_.image_size);
  p.patch_size = static_cast<int>(hp_.patch_size);
  p.spatial_merge_size = static_cast<int>(hp_.spatial_merge);
  for (int c = 0; c < 3; ++c) {
    p.image_mean[c] = hp_.image_mean[c];
    p.image_std[c] = hp_.image_std[c];
  }
  return p;
}

std::string pixtral_image_layout(int rows, int cols) {
  std::string s;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) s += "[IMG]";
    s += r + 1 < rows ? "[IMG_BREAK]" : "[IMG_END]";
  }
  return s;
}

Image PixtralEncoder::load_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) const {
  return decode_image_memory(bytes, limits);
}

Image PixtralEncoder::load_image_file(const std::string& path, const DecodeLimits& limits) const {
  return decode_image_file(path, limits);
}

MediaExpansion PixtralEncoder::expand(const std::string& rendered, const std::vector<TextSpan>& literal,
                                      const PromptMedia& media, ThreadPool& pool) const {
  POCKET_CHECK(media.videos.empty(), "this model ({} projector) has no video input", hp_.projector_name);
  const std::vector<TextPart> pieces = split_on(rendered, "[IMG]", literal);
  POCKET_CHECK(pieces.size() - 1 == media.images.size(),
               "the prompt has {} image placeholders but {} images were given", pieces.size() - 1, media.images.size());
  MediaExpansion out;
  out.image_token = "[IMG]";
  out.required_tokens = {"[IMG_BREAK]", "[IMG_END]"};
  append(out.text, out.literal, pieces[0]);
  for (size_t k = 0; k < media.images.size(); ++k) {
    const PixtralImage pi = pixtral_preprocess(media.images[k], preprocess_params(media.detail_of(k)));
    encode_cached(pi.pixels.data(), pi.plan.out_w, pi.plan.out_h, out.rows, pool);
    out.text += pixtral_image_layout(pi.plan.rows, pi.plan.cols);
    append(out.text, out.literal, pieces[k + 1]);
    ++out.n_tiles;
    if (media.progress) media.progress(out.n_tiles, static_cast<int64_t>(media.images.size()));
  }
  return out;
}

// Pixtral has no tiles: its "one tile" is one 512 x 512 image.
PromptMedia PixtralEncoder::one_tile_media(const std::function<Image(int, int)>& make) const {
  PromptMedia m;
  m.images.push_back(make(512, 512));
  return m;
}

namespace {

using Json = nlohmann::ordered_json;

Json plan_json(const PixtralPlan& p) {
  Json j = Json::object();
  j["size"] = Json::array({p.out_w, p.out_h});
  j["grid"] = Json{{"h", p.rows}, {"w", p.cols}};
  j["num_img_tokens"] = p.num_img_tokens;
  j["num_tokens"] = p.num_tokens;
  return j;
}

}  // namespace

// plan.json + pixels.f32 (normalized float32, CHW, little-endian whatever the host order).
PreprocessDump PixtralEncoder::preprocess_dump(const Image& image, const ImageDetail& detail) const {
  const PixtralImage pi = pixtral_preprocess(image, preprocess_params(detail));
  std::vector<uint8_t> bytes(pi.pixels.size() * 4);
  for (size_t i = 0; i < pi.pixels.size(); ++i) {
    const auto u = std::bit_cast<uint32_t>(pi.pixels[i]);
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
  }
  PreprocessDump d;
  d.files.emplace_back("pixels.f32", std::move(bytes));
  d.plan_json = plan_json(pi.plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  d.summary = fmt::format("{}x{} -> {}x{}, {} x {} tokens", image.width, image.height, pi.plan.out_w, pi.plan.out_h,
                          pi.plan.rows, pi.plan.cols);
  return d;
}

std::string PixtralEncoder::size_plan_json(int width, int height, const ImageDetail& detail) const {
  return plan_json(pixtral_plan(width, height, preprocess_params(detail))).dump();
}

int64_t PixtralEncoder::planned_image_tokens(int width, int height, const ImageDetail& detail) const {
  return pixtral_plan(width, height, preprocess_params(detail)).num_tokens;
}

}  // namespace pocket
