// Pillow 9.4 (libImaging/Resample.c, Geometry.c, Convert.c) and OpenCV 4.6 (imgproc/resize.cpp)
// resamplers, ported operation for operation so results match bit for bit. This file must be
// compiled without floating-point contraction (-ffp-contract=off): the coefficient tables are
// rounded to fixed point, so an FMA in their computation can flip a weight by one unit.
#include "media/resample.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace pocket {
namespace {

// ---------------------------------------------------------------- Pillow filters
// ref: Pillow 9.4 src/libImaging/Resample.c (box_filter ... lanczos_filter)

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

double bicubic_filter(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

struct Filter {
  double (*fn)(double);
  double support;
};

Filter filter_of(ResampleFilter f) {
  switch (f) {
    case ResampleFilter::Box: return {box_filter, 0.5};
    case ResampleFilter::Bilinear: return {bilinear_filter, 1.0};
    case ResampleFilter::Hamming: return {hamming_filter, 1.0};
    case ResampleFilter::Bicubic: return {bicubic_filter, 2.0};
    case ResampleFilter::Lanczos: return {lanczos_filter, 3.0};
    case ResampleFilter::Nearest: break;
  }
  fail("no convolution filter for {}", resample_filter_name(f));
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// Per-axis coefficient table: output i reads source [start[i], start[i] + count[i]) with
// fixed-point weights k[i * ksize + j].
struct Coeffs {
  int ksize = 0;
  std::vector<int> start, count;
  std::vector<int32_t> k;
};

// ref: Pillow 9.4 Resample.c precompute_coeffs + normalize_coeffs_8bpc, box = (0, in_size).
Coeffs precompute_coeffs(int in_size, int out_size, const Filter& filter) {
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  const double support = filter.support * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.start.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      const double v = filter.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) w[x] /= ww;
    }
    int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      k[x] = w[x] < 0 ? static_cast<int32_t>(-0.5 + w[x] * (1 << kPrecisionBits))
                      : static_cast<int32_t>(0.5 + w[x] * (1 << kPrecisionBits));
    }
    c.start[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  // ref: Resample.c clip8 (lookup on v >> 22; arithmetic shift for negative sums).
  const int32_t s = v >> kPrecisionBits;
  return static_cast<uint8_t>(s < 0 ? 0 : s > 255 ? 255 : s);
}

template <int C>
void horizontal_pass(const uint8_t* src, int in_w, int rows, uint8_t* dst, int out_w, const Coeffs& c) {
  for (int y = 0; y < rows; ++y) {
    const uint8_t* s = src + static_cast<size_t>(y) * in_w * C;
    uint8_t* d = dst + static_cast<size_t>(y) * out_w * C;
    for (int xx = 0; xx < out_w; ++xx) {
      const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      const uint8_t* p = s + static_cast<size_t>(c.start[xx]) * C;
      int32_t acc[C];
      for (int ch = 0; ch < C; ++ch) acc[ch] = 1 << (kPrecisionBits - 1);
      const int n = c.count[xx];
      for (int x = 0; x < n; ++x) {
        for (int ch = 0; ch < C; ++ch) acc[ch] += p[x * C + ch] * k[x];
      }
      for (int ch = 0; ch < C; ++ch) d[xx * C + ch] = clip8(acc[ch]);
    }
  }
}

// Integer sums are associative (they never overflow: |Σk| stays below 2 · 2^22 · 255 < 2^31),
// so accumulating a whole row tap by tap gives Pillow's per-pixel sums exactly.
void vertical_pass(const uint8_t* src, int row_len, uint8_t* dst, int out_h, const Coeffs& c) {
  std::vector<int32_t> acc(row_len);
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* s = src + static_cast<size_t>(c.start[yy] + y) * row_len;
      const int32_t w = k[y];
      for (int x = 0; x < row_len; ++x) acc[x] += s[x] * w;
    }
    uint8_t* d = dst + static_cast<size_t>(yy) * row_len;
    for (int x = 0; x < row_len; ++x) d[x] = clip8(acc[x]);
  }
}

void horizontal_any(const uint8_t* src, int in_w, int rows, int channels, uint8_t* dst, int out_w,
                    const Coeffs& c) {
  switch (channels) {
    case 1: horizontal_pass<1>(src, in_w, rows, dst, out_w, c); break;
    case 2: horizontal_pass<2>(src, in_w, rows, dst, out_w, c); break;
    case 3: horizontal_pass<3>(src, in_w, rows, dst, out_w, c); break;
    case 4: horizontal_pass<4>(src, in_w, rows, dst, out_w, c); break;
    default: fail("resample: {} channels not supported", channels);
  }
}

void check_sizes(int in_w, int in_h, int out_w, int out_h) {
  POCKET_CHECK(in_w > 0 && in_h > 0, "resample: empty source {}x{}", in_w, in_h);
  POCKET_CHECK(out_w > 0 && out_h > 0, "resample: height and width must be > 0 (got {}x{})", out_w, out_h);
}

}  // namespace

const char* resample_filter_name(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::Nearest: return "NEAREST";
    case ResampleFilter::Box: return "BOX";
    case ResampleFilter::Bilinear: return "BILINEAR";
    case ResampleFilter::Hamming: return "HAMMING";
    case ResampleFilter::Bicubic: return "BICUBIC";
    case ResampleFilter::Lanczos: return "LANCZOS";
  }
  return "?";
}

void pillow_resample_u8(const uint8_t* src, int in_w, int in_h, int channels, uint8_t* dst, int out_w, int out_h,
                        ResampleFilter filter) {
  check_sizes(in_w, in_h, out_w, out_h);
  if (filter == ResampleFilter::Nearest) {
    pillow_resize_nearest_u8(src, in_w, in_h, channels, dst, out_w, out_h);
    return;
  }
  const Filter f = filter_of(filter);
  const bool need_h = out_w != in_w;
  const bool need_v = out_h != in_h;
  if (!need_h && !need_v) {
    std::memcpy(dst, src, static_cast<size_t>(in_w) * in_h * channels);
    return;
  }
  // ref: Resample.c ImagingResampleInner: horizontal first, over the rows the vertical pass uses.
  if (need_h && !need_v) {
    horizontal_any(src, in_w, in_h, channels, dst, out_w, precompute_coeffs(in_w, out_w, f));
    return;
  }
  Coeffs cv = precompute_coeffs(in_h, out_h, f);
  if (!need_h) {
    vertical_pass(src, in_w * channels, dst, out_h, cv);
    return;
  }
  const int first = cv.start[0];
  const int last = cv.start[out_h - 1] + cv.count[out_h - 1];
  for (int& s : cv.start) s -= first;
  std::vector<uint8_t> tmp(static_cast<size_t>(last - first) * out_w * channels);
  horizontal_any(src + static_cast<size_t>(first) * in_w * channels, in_w, last - first, channels, tmp.data(), out_w,
                 precompute_coeffs(in_w, out_w, f));
  vertical_pass(tmp.data(), out_w * channels, dst, out_h, cv);
}

void pillow_resize_nearest_u8(const uint8_t* src, int in_w, int in_h, int channels, uint8_t* dst, int out_w,
                              int out_h) {
  check_sizes(in_w, in_h, out_w, out_h);
  // ref: Pillow 9.4 _imaging.c _resize (a[0] = in/out, a[4] = in/out) -> Geometry.c
  // ImagingScaleAffine: positions accumulate in double; COORD(v) = v < 0 ? -1 : (int)v;
  // out-of-range samples stay 0 (fill).
  const double a0 = static_cast<double>(static_cast<float>(in_w)) / out_w;
  const double a4 = static_cast<double>(static_cast<float>(in_h)) / out_h;
  std::vector<int> xin(out_w, -1);
  double xo = 0.0 + a0 * 0.5;
  for (int x = 0; x < out_w; ++x) {
    const int xi = xo < 0.0 ? -1 : static_cast<int>(xo);
    if (xi >= 0 && xi < in_w) xin[x] = xi;
    xo += a0;
  }
  double yo = 0.0 + a4 * 0.5;
  const size_t C = static_cast<size_t>(channels);
  for (int y = 0; y < out_h; ++y) {
    const int yi = yo < 0.0 ? -1 : static_cast<int>(yo);
    uint8_t* d = dst + static_cast<size_t>(y) * out_w * C;
    std::memset(d, 0, out_w * C);
    if (yi >= 0 && yi < in_h) {
      const uint8_t* s = src + static_cast<size_t>(yi) * in_w * C;
      for (int x = 0; x < out_w; ++x) {
        if (xin[x] >= 0) std::memcpy(d + x * C, s + xin[x] * C, C);
      }
    }
    yo += a4;
  }
}

void premultiply_alpha(Image& im) {
  POCKET_CHECK(im.mode == PixelMode::RGBA || im.mode == PixelMode::LA, "premultiply needs RGBA or LA");
  const int C = im.channels;
  const size_t n = static_cast<size_t>(im.width) * im.height;
  for (size_t i = 0; i < n; ++i) {
    uint8_t* p = &im.pixels[i * C];
    const uint32_t a = p[C - 1];
    // ref: Convert.c rgbA2rgba, MULDIV255(c, a) = (t + (t >> 8)) >> 8 with t = c a + 128.
    for (int c = 0; c < C - 1; ++c) {
      const uint32_t t = p[c] * a + 128;
      p[c] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
    }
  }
}

void unpremultiply_alpha(Image& im) {
  POCKET_CHECK(im.mode == PixelMode::RGBA || im.mode == PixelMode::LA, "unpremultiply needs RGBA or LA");
  const int C = im.channels;
  const size_t n = static_cast<size_t>(im.width) * im.height;
  for (size_t i = 0; i < n; ++i) {
    uint8_t* p = &im.pixels[i * C];
    const uint32_t a = p[C - 1];
    if (a == 0 || a == 255) continue;
    // ref: Convert.c rgba2rgbA: CLIP8(255 c / a) with integer division.
    for (int c = 0; c < C - 1; ++c) {
      const uint32_t v = 255u * p[c] / a;
      p[c] = static_cast<uint8_t>(v > 255 ? 255 : v);
    }
  }
}

Image pillow_resize(const Image& im, int out_w, int out_h, ResampleFilter filter) {
  check_sizes(im.width, im.height, out_w, out_h);
  // ref: Pillow 9.4 Image.resize
  if (im.width == out_w && im.height == out_h) return im;
  if (im.mode == PixelMode::P) filter = ResampleFilter::Nearest;
  Image out = im;
  out.width = out_w;
  out.height = out_h;
  out.pixels.assign(static_cast<size_t>(out_w) * out_h * im.channels, 0);
  if ((im.mode == PixelMode::RGBA || im.mode == PixelMode::LA) && filter != ResampleFilter::Nearest) {
    Image pre = im;
    premultiply_alpha(pre);
    pillow_resample_u8(pre.pixels.data(), im.width, im.height, im.channels, out.pixels.data(), out_w, out_h, filter);
    unpremultiply_alpha(out);
    return out;
  }
  pillow_resample_u8(im.pixels.data(), im.width, im.height, im.channels, out.pixels.data(), out_w, out_h, filter);
  return out;
}

Image crop_image(const Image& im, int x0, int y0, int x1, int y1) {
  POCKET_CHECK(x0 >= 0 && y0 >= 0 && x1 <= im.width && y1 <= im.height && x0 < x1 && y0 < y1,
               "crop box ({}, {}, {}, {}) outside {}x{}", x0, y0, x1, y1, im.width, im.height);
  Image out = im;
  out.width = x1 - x0;
  out.height = y1 - y0;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * im.channels);
  for (int y = 0; y < out.height; ++y) {
    std::memcpy(out.row(y), im.row(y0 + y) + static_cast<size_t>(x0) * im.channels, out.row_bytes());
  }
  return out;
}

// ---------------------------------------------------------------- OpenCV INTER_CUBIC

namespace {

// ref: OpenCV 4.6 imgproc/src/resize.cpp interpolateCubic (float arithmetic).
void interpolate_cubic(float x, float* coeffs) {
  const float A = -0.75f;
  coeffs[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  coeffs[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  coeffs[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  coeffs[3] = 1.f - coeffs[0] - coeffs[1] - coeffs[2];
}

struct CubicAxis {
  std::vector<int> idx;    // [out, 4] clamped source indices
  std::vector<float> w;    // [out, 4]
};

// ref: resize.cpp cv::resize: scale = 1 / (out / in); fx = (float)((dx + 0.5) * scale - 0.5);
// sx = cvFloor(fx); fx -= sx; taps sx - 1 .. sx + 2, replicated at the borders.
CubicAxis cubic_axis(int in_size, int out_size) {
  const double inv_scale = static_cast<double>(out_size) / in_size;
  const double scale = 1. / inv_scale;
  CubicAxis a;
  a.idx.resize(static_cast<size_t>(out_size) * 4);
  a.w.resize(static_cast<size_t>(out_size) * 4);
  for (int d = 0; d < out_size; ++d) {
    float fx = static_cast<float>((d + 0.5) * scale - 0.5);
    const int sx = static_cast<int>(std::floor(fx));
    fx -= static_cast<float>(sx);
    interpolate_cubic(fx, &a.w[static_cast<size_t>(d) * 4]);
    for (int k = 0; k < 4; ++k) {
      int s = sx - 1 + k;
      s = s < 0 ? 0 : s >= in_size ? in_size - 1 : s;
      a.idx[static_cast<size_t>(d) * 4 + k] = s;
    }
  }
  return a;
}

}  // namespace

namespace {

// Source values are read as float, so uint8 images give exactly what OpenCV computes on
// np.array(img, dtype=np.float32) without a float copy of the whole source.
template <typename T>
std::vector<float> cubic_resize(const T* src, int in_w, int in_h, int channels, int out_w, int out_h) {
  check_sizes(in_w, in_h, out_w, out_h);
  const size_t C = static_cast<size_t>(channels);
  std::vector<float> out(static_cast<size_t>(out_w) * out_h * C);
  if (in_w == out_w && in_h == out_h) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(src[i]);
    return out;
  }
  const CubicAxis ax = cubic_axis(in_w, out_w);
  CubicAxis ay = cubic_axis(in_h, out_h);
  // Horizontal pass over the source rows the vertical taps use (stored compactly), then vertical.
  // ref: resize.cpp HResizeCubic (scalar for float): S[x0]*a0 + S[x1]*a1 + S[x2]*a2 + S[x3]*a3.
  std::vector<int> slot(static_cast<size_t>(in_h), -1);
  int n_rows = 0;
  for (int& r : ay.idx) {
    if (slot[r] < 0) slot[r] = n_rows++;
    r = slot[r];
  }
  std::vector<float> tmp(static_cast<size_t>(n_rows) * out_w * C);
  for (int y = 0; y < in_h; ++y) {
    if (slot[y] < 0) continue;
    const T* s = src + static_cast<size_t>(y) * in_w * C;
    float* d = tmp.data() + static_cast<size_t>(slot[y]) * out_w * C;
    for (int x = 0; x < out_w; ++x) {
      const int* ix = &ax.idx[static_cast<size_t>(x) * 4];
      const float* w = &ax.w[static_cast<size_t>(x) * 4];
      for (size_t c = 0; c < C; ++c) {
        d[x * C + c] = static_cast<float>(s[ix[0] * C + c]) * w[0] + static_cast<float>(s[ix[1] * C + c]) * w[1] +
                       static_cast<float>(s[ix[2] * C + c]) * w[2] + static_cast<float>(s[ix[3] * C + c]) * w[3];
      }
    }
  }
  const size_t row = static_cast<size_t>(out_w) * C;
  for (int y = 0; y < out_h; ++y) {
    const int* iy = &ay.idx[static_cast<size_t>(y) * 4];
    const float* w = &ay.w[static_cast<size_t>(y) * 4];
    const float* s0 = tmp.data() + iy[0] * row;
    const float* s1 = tmp.data() + iy[1] * row;
    const float* s2 = tmp.data() + iy[2] * row;
    const float* s3 = tmp.data() + iy[3] * row;
    float* d = out.data() + static_cast<size_t>(y) * row;
    // ref: resize.cpp VResizeCubicVec_32f, 4-lane body: v_muladd(S0, b0, v_muladd(S1, b1,
    // v_muladd(S2, b2, S3 * b3))) (no FMA in the SSE baseline build), then VResizeCubic's scalar
    // tail S0*b0 + S1*b1 + S2*b2 + S3*b3. The summation order decides the last bit.
    const size_t body = row - row % 4;
    for (size_t x = 0; x < body; ++x) d[x] = s0[x] * w[0] + (s1[x] * w[1] + (s2[x] * w[2] + s3[x] * w[3]));
    for (size_t x = body; x < row; ++x) d[x] = s0[x] * w[0] + s1[x] * w[1] + s2[x] * w[2] + s3[x] * w[3];
  }
  return out;
}

}  // namespace

std::vector<float> opencv_resize_cubic(const float* src, int in_w, int in_h, int channels, int out_w, int out_h) {
  return cubic_resize(src, in_w, in_h, channels, out_w, out_h);
}

std::vector<float> opencv_resize_cubic(const uint8_t* src, int in_w, int in_h, int channels, int out_w, int out_h) {
  return cubic_resize(src, in_w, in_h, channels, out_w, out_h);
}

}  // namespace pocket
