// One object per vision family: everything the rest of Pocket needs to know about a family
// is a virtual here, so nothing outside src/vision/ switches on the projector type.
//  - loading: an mmproj GGUF (load() picks the family from clip.projector_type);
//  - the family's media rules: how its reference loads an image, whether it takes video and
//    with which chat template, and expand(): placeholders -> the token layout of each image or
//    video, plus the embedding rows of its tiles (the prompt builder, runtime/prompt.h,
//    tokenizes and places them);
//  - encode(): one already-preprocessed image (normalized float32, channel-first) into
//    the embeddings that replace its image tokens, one row of n_embd() floats per token.
// Adding a family: docs/architecture.md "Adding a model family".
//
//  - idefics3 (SmolVLM2): the image is one tile of image_size x image_size; rows are the
//    pixel-shuffled blocks in raster order (image_size/patch/scale_factor squared of them).
//  - pixtral (Ministral 3): any size that is a multiple of patch_size * spatial_merge; rows are
//    the [IMG] tokens in row-major order of the merged grid, *without* [IMG_BREAK] rows: the
//    caller places img_break() (or the text embedding of [IMG_BREAK]) between grid rows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <span>
#include <utility>

#include "core/thread_pool.h"
#include "media/image.h"
#include "media/video_smolvlm.h"
#include "tokenizer/tokenizer.h"
#include "vision/clip_model.h"
#include "vision/embedding_cache.h"

namespace pocket {

class GgufFile;

// [h, w, 3] -> [3, h, w]: pixel-major input (`pocket encode-image` files, llama.cpp's golden
// tower inputs) in the layout encode() reads.
std::vector<float> hwc_to_chw(const float* hwc, int64_t width, int64_t height);

// How much of an image to encode: `--image-max-tiles`, `--no-image-splitting` / `--image-detail`
// in the CLI, image_url.detail in the server. The default is the reference processor's.
struct ImageDetail {
  // OpenAI's detail "low", the family's cheapest rendering: SmolVLM2 encodes the global tile only
  // (transformers' do_image_splitting=False); Pixtral fits the image in 512 x 512 (mistral-common
  // with max_image_size 512).
  bool low = false;
  // SmolVLM2: at most this many tiles, global included (0: no cap); tiled families only.
  int max_tiles = 0;
};

// Called after each encoded tile (SmolVLM2) or image (Pixtral) with (done, total).
using EncodeProgress = std::function<void(int64_t done, int64_t total)>;

// The media of one prompt; each kind in the order its placeholders appear.
struct PromptMedia {
  std::vector<Image> images;
  std::vector<ImageDetail> image_detail;  // per image; images past its end take the default
  std::vector<SmolVlmVideo> videos;
  EncodeProgress progress;                // optional
  bool empty() const { return images.empty() && videos.empty(); }
  ImageDetail detail_of(size_t image) const { return image < image_detail.size() ? image_detail[image] : ImageDetail{}; }
};

// A rendered prompt with its placeholders expanded (VisionEncoder::expand).
struct MediaExpansion {
  std::string text;               // every placeholder replaced by its token layout
  std::vector<TextSpan> literal;  // the caller-text spans, moved along with the text
  std::string image_token;        // the token whose positions take `rows`, in order
  std::vector<std::string> required_tokens;  // control tokens the layout writes (the vocabulary must have them)
  std::vector<float> rows;        // [n image tokens, n_embd]
  int64_t n_tiles = 0;            // tiles (SmolVLM2) or images (Pixtral) encoded
};

// `pocket preprocess --image`: what the family's preprocessor produced, as files.
struct PreprocessDump {
  std::string plan_json;                                        // plan.json
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;  // name -> bytes
  std::string summary;                                          // one line for stderr
};

// Bytes of tile embeddings an encoder keeps by default (about 1700 SmolVLM2-256M tiles or 29
// Pixtral 1008 x 756 images).
constexpr uint64_t kDefaultEmbeddingCacheBytes = uint64_t{256} << 20;

class VisionEncoder {
 public:
  virtual ~VisionEncoder();

  // Opens and validates an mmproj file; throws pocket::Error naming the problem. The encoder
  // starts with an embedding cache of kDefaultEmbeddingCacheBytes (set_cache changes it).
  static std::unique_ptr<VisionEncoder> load(const std::string& path);
  // Same for an already opened file; the encoder keeps it (weights point into its mapping).
  static std::unique_ptr<VisionEncoder> load(std::unique_ptr<GgufFile> file);

  const ClipHParams& hparams() const { return hp_; }
  ProjectorType projector() const { return hp_.projector; }
  // Width of each output row (= the text model's d_model).
  int64_t n_embd() const { return n_embd_; }

  struct Grid {
    int64_t rows = 0, cols = 0;  // output tokens = rows * cols, in row-major order
  };
  // Output token grid for an input of width x height; throws pocket::Error if the size is not
  // accepted (see the class comment).
  virtual Grid output_grid(int64_t width, int64_t height) const = 0;
  int64_t n_tokens(int64_t width, int64_t height) const {
    const Grid g = output_grid(width, height);
    return g.rows * g.cols;
  }

  // pixels_chw: [3, height, width] normalized float32, the processors' pixel_values layout
  // (hwc_to_chw converts pixel-major data such as llama.cpp's golden inputs). out is resized to
  // [n_tokens(width, height), n_embd()]. Thread-safe: all scratch is per call.
  virtual void encode(const float* pixels_chw, int64_t width, int64_t height, std::vector<float>& out,
                      ThreadPool& pool) const = 0;

  // Tiles already encoded are taken from `cache` (shared by every caller of this encoder:
  // server requests, chat turns, compare runs); null turns caching off.
  void set_cache(std::shared_ptr<EmbeddingCache> cache) { cache_ = std::move(cache); }
  const EmbeddingCache* cache() const { return cache_.get(); }

  // Frees the activations kept between encode calls (the server calls it when its image traffic
  // is over; the next encode allocates them again).
  virtual void release_scratch() const {}

  // pixtral: the [IMG_BREAK] embedding stored in the mmproj (v.token_embd.img_break), [n_embd];
  // empty when the file has none or the family does not use one.
  const std::vector<float>& img_break() const { return img_break_; }

  // A typical input for benchmarks: one tile (SmolVLM2) or a 1008 x 756 photo (Pixtral).
  virtual std::pair<int64_t, int64_t> typical_input() const = 0;
  // The type of the tower's matrices (its first layer's Q), for reports and benchmarks.
  virtual DType weight_type() const = 0;
  // Floating-point operations (2 x multiply-adds) of the products and attention of one encode
  // of width x height (norms and activations left out), to relate times to the FMA peak.
  virtual double encode_flops(int64_t width, int64_t height) const = 0;

  // ---- the family's media rules ----
  // Decodes an image as the family's reference processor loads it.
  virtual Image load_image(std::span<const uint8_t> bytes, const DecodeLimits& limits = {}) const = 0;
  virtual Image load_image_file(const std::string& path, const DecodeLimits& limits = {}) const = 0;
  // Video input (SmolVLM2 only): whether, its sampling parameters (throws pocket::Error for a
  // family without video) and the chat template the reference renders video turns with.
  virtual bool takes_video() const { return false; }
  virtual SmolVlmVideoParams video_params() const;
  virtual std::string video_chat_template() const { return ""; }
  // Replaces the placeholders of `rendered` (outside the `literal` caller-text spans, which
  // keep a typed placeholder as text) with each medium's token layout, in prompt order, and
  // encodes every tile. Throws pocket::Error when placeholders and media differ in number.
  virtual MediaExpansion expand(const std::string& rendered, const std::vector<TextSpan>& literal,
                                const PromptMedia& media, ThreadPool& pool) const = 0;

  // Whether the family splits an image into tiles (what --image-max-tiles and
  // --no-image-splitting limit).
  virtual bool splits_images() const { return false; }
  // Throws pocket::Error when the family cannot honour `d` (a tile cap for a family without tiles).
  virtual void check_detail(const ImageDetail& d) const;

  // An input that encodes as exactly one tile (compare's per-tile probe), its pixels from
  // make(width, height).
  virtual PromptMedia one_tile_media(const std::function<Image(int, int)>& make) const = 0;
  // `pocket preprocess`: the preprocessor's output for one image, and the size arithmetic
  // alone for width x height as a JSON object (throws where the reference processor fails).
  virtual PreprocessDump preprocess_dump(const Image& image, const ImageDetail& detail = {}) const = 0;
  virtual std::string size_plan_json(int width, int height, const ImageDetail& detail = {}) const = 0;
  // Prompt positions an image of width x height takes (its placeholder tokens), from the size
  // plan alone: the server checks a request against the context before decoding any pixel.
  virtual int64_t planned_image_tokens(int width, int height, const ImageDetail& detail = {}) const = 0;

 protected:
  VisionEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp);
  // encode() through the cache; appends the rows to `rows`.
  void encode_cached(const float* pixels_chw, int64_t width, int64_t height, std::vector<float>& rows,
                     ThreadPool& pool) const;

  std::unique_ptr<GgufFile> file_;
  ClipHParams hp_;
  int64_t n_embd_ = 0;
  std::vector<float> img_break_;
  std::shared_ptr<EmbeddingCache> cache_;
};

}  // namespace pocket
