// The interface the runtime uses for any vision tower: load an mmproj GGUF, then turn one
// already-preprocessed image (normalized float32, height x width x RGB) into the embeddings
// that replace its image tokens in the prompt, one row of n_embd() floats per token.
//
//  - idefics3 (SmolVLM2): the image is one tile of image_size x image_size; rows are the
//    pixel-shuffled blocks in raster order (image_size/patch/scale_factor squared of them).
//  - pixtral (Ministral 3): any size that is a multiple of patch_size * spatial_merge; rows are
//    the [IMG] tokens in row-major order of the merged grid, *without* [IMG_BREAK] rows: the
//    caller places img_break() (or the text embedding of [IMG_BREAK]) between grid rows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "vision/clip_model.h"

namespace pocket {

class GgufFile;

class VisionEncoder {
 public:
  virtual ~VisionEncoder();

  // Opens and validates an mmproj file; throws pocket::Error naming the problem.
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

  // pixels_hwc: [height, width, 3] normalized float32. out is resized to
  // [n_tokens(width, height), n_embd()]. Thread-safe: all scratch is per call.
  virtual void encode(const float* pixels_hwc, int64_t width, int64_t height, std::vector<float>& out,
                      ThreadPool& pool) const = 0;

  // pixtral: the [IMG_BREAK] embedding stored in the mmproj (v.token_embd.img_break), [n_embd];
  // empty when the file has none or the family does not use one.
  const std::vector<float>& img_break() const { return img_break_; }

 protected:
  VisionEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp);

  std::unique_ptr<GgufFile> file_;
  ClipHParams hp_;
  int64_t n_embd_ = 0;
  std::vector<float> img_break_;
};

}  // namespace pocket
