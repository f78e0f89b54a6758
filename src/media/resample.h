// Reference-exact resampling.
//
// - Pillow 9.4 Image.resize on 8-bit images (libImaging/Resample.c): separable convolution with
//   per-axis coefficient tables in 22-bit fixed point, horizontal pass first, each pass rounded
//   and clipped to uint8; NEAREST as Pillow's affine scaling (Geometry.c ImagingScaleAffine).
//   pillow_resize() adds Image.resize's mode rules: same size -> copy, P -> NEAREST,
//   LA/RGBA -> premultiplied (La/RGBa) resize, then un-premultiplied.
// - OpenCV 4.6 cv::resize(INTER_CUBIC) on float images (imgproc/resize.cpp): Keys cubic
//   a = -0.75, float32 coordinates and weights, replicated borders, no antialiasing, no clipping.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"

namespace pocket {

// Pillow's filters (PIL.Image.Resampling).
enum class ResampleFilter { Nearest, Box, Bilinear, Hamming, Bicubic, Lanczos };

const char* resample_filter_name(ResampleFilter filter);

// Pillow's 8-bit resample of interleaved `channels`-channel pixels (any filter but Nearest):
// src [in_h, in_w, channels] -> dst [out_h, out_w, channels]. A pass whose size does not
// change is skipped, like ImagingResampleInner.
void pillow_resample_u8(const uint8_t* src, int in_w, int in_h, int channels, uint8_t* dst, int out_w, int out_h,
                        ResampleFilter filter);

// Pillow's NEAREST resize (ImagingScaleAffine): source index = int(pos), pos starting at
// (in/out)/2 and advanced by in/out.
void pillow_resize_nearest_u8(const uint8_t* src, int in_w, int in_h, int channels, uint8_t* dst, int out_w,
                              int out_h);

// PIL Image.resize(size, filter) with Pillow's mode handling (see the file comment).
Image pillow_resize(const Image& image, int out_w, int out_h, ResampleFilter filter);

// PIL Image.crop on an in-bounds box [x0, x1) × [y0, y1).
Image crop_image(const Image& image, int x0, int y0, int x1, int y1);

// RGBA <-> premultiplied RGBa (LA <-> La) with Pillow's integer formulas (Convert.c).
void premultiply_alpha(Image& image);
void unpremultiply_alpha(Image& image);

// cv::resize(src, (out_w, out_h), interpolation=INTER_CUBIC) for float32 interleaved images.
std::vector<float> opencv_resize_cubic(const float* src, int in_w, int in_h, int channels, int out_w, int out_h);
// The same on 8-bit pixels (read as float32, as np.array(img, dtype=np.float32) gives them).
std::vector<float> opencv_resize_cubic(const uint8_t* src, int in_w, int in_h, int channels, int out_w, int out_h);

}  // namespace pocket
