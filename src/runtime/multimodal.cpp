// Placeholder expansion, tokenization and image encoding for multimodal prompts.
#include "runtime/multimodal.h"

#include <algorithm>

#include "core/error.h"
#include "core/timer.h"
#include "media/pixtral_preprocess.h"
#include "media/smolvlm_preprocess.h"

namespace pocket {

namespace {

// Text between occurrences of `sep` that lie outside every literal span (caller text
// keeps a typed placeholder as text), with the spans re-based to each part.
struct Part {
  std::string text;
  std::vector<TextSpan> literal;
};

std::vector<Part> split_on(const std::string& s, const std::string& sep, const std::vector<TextSpan>& literal) {
  std::vector<Part> parts;
  size_t i = 0, from = 0, li = 0;
  auto part = [&](size_t b, size_t e) {
    Part p;
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

void append(std::string& text, std::vector<TextSpan>& literal, const Part& p) {
  for (const TextSpan& r : p.literal) literal.push_back({r.begin + text.size(), r.end + text.size()});
  text += p.text;
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

const char* const kSmolVlmVideoChatTemplate =
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == "
    "'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' "
    "%}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% elif line['type'] == 'video' %}{{ "
    "'<video>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ "
    "'Assistant:' }}{% endif %}";

SmolVlmVideoParams smolvlm_video_params(const VisionEncoder& enc) {
  POCKET_CHECK(enc.projector() == ProjectorType::Idefics3, "video input needs a SmolVLM2 (idefics3) projector");
  const SmolVlmParams ip = smolvlm_params(enc);
  SmolVlmVideoParams vp;
  vp.longest_edge = ip.longest_edge;
  vp.tile_size = ip.tile_size;
  vp.image_seq_len = ip.image_seq_len;
  return vp;
}

std::string image_placeholder(const VisionEncoder& enc) {
  return enc.projector() == ProjectorType::Pixtral ? "[IMG]" : "<image>";
}

Image load_image_for(const VisionEncoder& enc, const std::string& path) {
  // ref: transformers image_utils.load_image (EXIF transpose + RGB) for SmolVLM2;
  // mistral-common reads the image as stored and composites alpha on white itself.
  return enc.projector() == ProjectorType::Pixtral ? decode_image_file(path) : load_image_rgb(path);
}

MultimodalPrompt build_multimodal_prompt(const Engine& engine, const VisionEncoder& enc, const std::string& rendered,
                                         const std::vector<Image>& images, ThreadPool& pool,
                                         const std::vector<SmolVlmVideo>& videos) {
  return build_multimodal_prompt(engine, enc, rendered, std::vector<TextSpan>{}, images, pool, videos);
}

MultimodalPrompt build_multimodal_prompt(const Engine& engine, const VisionEncoder& enc, const std::string& rendered,
                                         const std::vector<TextSpan>& literal_in, const std::vector<Image>& images,
                                         ThreadPool& pool, const std::vector<SmolVlmVideo>& videos) {
  const Tokenizer& tok = engine.tokenizer();
  // Only tokenizers whose reference never parses control tokens from text (Tekken) keep
  // caller text literal; the others parse it as Hugging Face does.
  const bool keep_literal = tok.literal_control_text() && enc.projector() == ProjectorType::Pixtral;
  const std::vector<TextSpan> no_spans;
  const std::vector<TextSpan>& literal = keep_literal ? literal_in : no_spans;
  std::vector<TextSpan> out_literal;
  const int64_t d_model = engine.hparams().d_model;
  POCKET_CHECK(enc.n_embd() == d_model, "the projector outputs {}-wide embeddings but the text model expects {}",
               enc.n_embd(), d_model);
  const std::string placeholder = image_placeholder(enc);
  const std::vector<Part> pieces = split_on(rendered, placeholder, literal);
  if (enc.projector() == ProjectorType::Pixtral) {
    POCKET_CHECK(videos.empty(), "this model ({} projector) has no video input", enc.hparams().projector_name);
    POCKET_CHECK(pieces.size() - 1 == images.size(), "the prompt has {} image placeholders but {} images were given",
                 pieces.size() - 1, images.size());
  }

  MultimodalPrompt out;
  const double t0 = now_seconds();
  std::vector<float>& rows = out.storage;
  int32_t image_id = -1;
  std::string text;
  append(text, out_literal, pieces[0]);
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
      append(text, out_literal, pieces[k + 1]);
      ++out.n_tiles;
    }
  } else {
    image_id = require_token(tok, "<image>");
    const SmolVlmParams params = smolvlm_params(enc);
    const int64_t tile = enc.hparams().image_size;
    auto encode_tile = [&](const Image& rgb) {
      POCKET_CHECK(rgb.width == tile && rgb.height == tile, "tile of {}x{} pixels, expected {}", rgb.width, rgb.height, tile);
      const std::vector<float> hwc = chw_to_hwc(smolvlm_pixel_values(rgb, params), rgb.width, rgb.height);
      std::vector<float> emb;
      enc.encode(hwc.data(), tile, tile, emb, pool);
      rows.insert(rows.end(), emb.begin(), emb.end());
      ++out.n_tiles;
    };
    // Placeholders of both kinds, in text order.
    text.clear();
    out_literal.clear();
    size_t pos = 0, next_image = 0, next_video = 0;
    for (;;) {
      const size_t pi = rendered.find("<image>", pos), pv = rendered.find("<video>", pos);
      const size_t p = std::min(pi, pv);
      text += rendered.substr(pos, p == std::string::npos ? std::string::npos : p - pos);
      if (p == std::string::npos) break;
      if (p == pi) {
        POCKET_CHECK(next_image < images.size(), "the prompt has more image placeholders than images ({})", images.size());
        SmolVlmImage si = smolvlm_preprocess(images[next_image++], params);
        for (const SmolVlmTile& t : si.tiles) encode_tile(t.rgb);
        text += si.prompt;
        pos = p + 7;
      } else {
        POCKET_CHECK(next_video < videos.size(), "the prompt has more video placeholders than videos ({})", videos.size());
        const SmolVlmVideo& v = videos[next_video++];
        for (const Image& frame : v.tiles) encode_tile(frame);
        text += v.prompt;
        pos = p + 7;
      }
    }
    POCKET_CHECK(next_image == images.size() && next_video == videos.size(),
                 "{} images and {} videos given but the prompt places {} and {}", images.size(), videos.size(),
                 next_image, next_video);
  }
  out.encode_seconds = now_seconds() - t0;

  out.tokens = keep_literal ? tok.encode_with_literal(text, false, out_literal) : tok.encode(text, false, true);
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
