// `pocket preprocess`: runs the image preprocessor an mmproj GGUF implies, without the vision
// tower, so its output can be compared with the reference processors.
//  - --image IMG --out DIR: idefics3 (SmolVLM2) writes DIR/plan.json and every tile as an 8-bit
//    RGB PNG (DIR/tile<k>.png, model order, global tile last, before rescale/normalize);
//    pixtral writes DIR/plan.json and DIR/pixels.f32 (normalized float32, CHW, little-endian).
//  - --sizes SIZES.json (a JSON array of [w, h]): prints a JSON array with the size arithmetic
//    of each entry, or {"error": ...} where the reference processor fails.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/image.h"
#include "media/pixtral_preprocess.h"
#include "media/smolvlm_preprocess.h"
#include "runtime/multimodal.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

using Json = nlohmann::ordered_json;

struct PreprocessOptions {
  std::string mmproj, image, out, sizes;
};

// ---------------------------------------------------------------- minimal PNG writer
// The media library only decodes, and the CLI must not pull in an encoder library for a debug
// output, so tiles are written as PNGs whose zlib stream uses stored (uncompressed) deflate
// blocks (RFC 1950/1951), which any decoder accepts.

uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

void put_u32_be(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& png, const char type[4], const std::vector<uint8_t>& data) {
  POCKET_CHECK(data.size() <= 0x7FFFFFFFu, "PNG chunk too large ({} bytes)", data.size());
  put_u32_be(png, static_cast<uint32_t>(data.size()));
  const size_t type_at = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  const uint32_t crc = crc32_update(0xFFFFFFFFu, png.data() + type_at, 4 + data.size()) ^ 0xFFFFFFFFu;
  put_u32_be(png, crc);
}

std::vector<uint8_t> encode_png_rgb(const Image& img) {
  POCKET_CHECK(img.mode == PixelMode::RGB && img.channels == 3 && img.width > 0 && img.height > 0,
               "PNG writer: expected a non-empty RGB image");
  // Filtered scanlines: filter type 0 (None) before each row.
  const size_t row = img.row_bytes();
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * img.height);
  for (int y = 0; y < img.height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), img.row(y), img.row(y) + row);
  }
  std::vector<uint8_t> z;
  z.reserve(raw.size() + raw.size() / 65535 * 5 + 16);
  z.push_back(0x78);  // CMF: deflate, 32K window
  z.push_back(0x01);  // FLG: no dictionary, check bits make 0x7801 a multiple of 31
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z.push_back(pos + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
    z.push_back(static_cast<uint8_t>(n));
    z.push_back(static_cast<uint8_t>(n >> 8));
    z.push_back(static_cast<uint8_t>(~n));
    z.push_back(static_cast<uint8_t>(~n >> 8));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32 of the uncompressed data
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  put_u32_be(z, (b << 16) | a);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32_be(ihdr, static_cast<uint32_t>(img.width));
  put_u32_be(ihdr, static_cast<uint32_t>(img.height));
  for (uint8_t v : {8, 2, 0, 0, 0}) ihdr.push_back(v);  // 8-bit, truecolour, deflate, adaptive, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", {});
  return png;
}

// ---------------------------------------------------------------- files

void write_bytes(const std::filesystem::path& path, const void* data, size_t n) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.string().c_str(), "wb"), std::fclose);
  POCKET_CHECK(f, "cannot write '{}'", path.string());
  POCKET_CHECK((n == 0 || std::fwrite(data, 1, n, f.get()) == n) && std::fflush(f.get()) == 0, "write to '{}' failed",
               path.string());
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_bytes(path, text.data(), text.size());
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  POCKET_CHECK(static_cast<bool>(f), "cannot open '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  POCKET_CHECK(!f.bad(), "cannot read '{}'", path);
  return ss.str();
}

std::string dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void make_out_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  POCKET_CHECK(!ec && std::filesystem::is_directory(dir), "cannot create output directory '{}'{}{}", dir,
               ec ? ": " : "", ec ? ec.message() : "");
}

// ---------------------------------------------------------------- plans as JSON

Json pair(int a, int b) { return Json::array({a, b}); }

Json smolvlm_plan_json(const SmolVlmPlan& p) {
  Json j = Json::object();
  j["resized_size"] = pair(p.resized_w, p.resized_h);
  j["snapped_size"] = pair(p.snapped_w, p.snapped_h);
  j["rows"] = p.rows;
  j["cols"] = p.cols;
  j["num_tiles"] = p.num_tiles;
  j["num_image_tokens"] = p.num_image_tokens;
  return j;
}

Json pixtral_plan_json(const PixtralPlan& p) {
  Json j = Json::object();
  j["size"] = pair(p.out_w, p.out_h);
  j["grid"] = Json{{"h", p.rows}, {"w", p.cols}};
  j["num_img_tokens"] = p.num_img_tokens;
  j["num_tokens"] = p.num_tokens;
  return j;
}

// ---------------------------------------------------------------- modes

void run_image(const VisionEncoder& enc, const PreprocessOptions& o) {
  POCKET_CHECK(!o.out.empty(), "preprocess --image needs --out DIR");
  // Decode before touching the output directory, so a bad image leaves nothing behind.
  const Image image = load_image_for(enc, o.image);
  const std::filesystem::path dir(o.out);
  if (enc.projector() == ProjectorType::Pixtral) {
    const PixtralImage pi = pixtral_preprocess(image, pixtral_params(enc));
    make_out_dir(o.out);
    // Little-endian float32 whatever the host order.
    std::vector<uint8_t> bytes(pi.pixels.size() * 4);
    for (size_t i = 0; i < pi.pixels.size(); ++i) {
      const auto u = std::bit_cast<uint32_t>(pi.pixels[i]);
      for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
    }
    write_bytes(dir / "pixels.f32", bytes.data(), bytes.size());
    write_text(dir / "plan.json", dump(pixtral_plan_json(pi.plan), 2) + "\n");
    std::fprintf(stderr, "%dx%d -> %dx%d, %d x %d tokens; wrote %s\n", image.width, image.height, pi.plan.out_w,
                 pi.plan.out_h, pi.plan.rows, pi.plan.cols, o.out.c_str());
    return;
  }
  const SmolVlmImage si = smolvlm_preprocess(image, smolvlm_params(enc));
  make_out_dir(o.out);
  for (size_t k = 0; k < si.tiles.size(); ++k) {
    const std::vector<uint8_t> png = encode_png_rgb(si.tiles[k].rgb);
    write_bytes(dir / ("tile" + std::to_string(k) + ".png"), png.data(), png.size());
  }
  Json plan = smolvlm_plan_json(si.plan);
  plan["prompt"] = si.prompt;
  write_text(dir / "plan.json", dump(plan, 2) + "\n");
  std::fprintf(stderr, "%dx%d -> %d tiles (%d x %d + global); wrote %s\n", image.width, image.height,
               si.plan.num_tiles, si.plan.rows, si.plan.cols, o.out.c_str());
}

int to_int_side(const Json& v, size_t index) {
  POCKET_CHECK(v.is_number_integer(), "sizes[{}]: width and height must be integers", index);
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    POCKET_CHECK(u <= static_cast<uint64_t>(std::numeric_limits<int>::max()), "sizes[{}]: {} is too large", index, u);
    return static_cast<int>(u);
  }
  const auto s = v.get<int64_t>();
  POCKET_CHECK(s >= std::numeric_limits<int>::min() && s <= std::numeric_limits<int>::max(),
               "sizes[{}]: {} is out of range", index, s);
  return static_cast<int>(s);
}

void run_sizes(const VisionEncoder& enc, const PreprocessOptions& o) {
  const Json sizes = Json::parse(read_file(o.sizes), nullptr, false);
  POCKET_CHECK(!sizes.is_discarded(), "'{}' is not valid JSON", o.sizes);
  POCKET_CHECK(sizes.is_array(), "'{}' must hold a JSON array of [width, height] pairs", o.sizes);
  const bool pixtral = enc.projector() == ProjectorType::Pixtral;
  const SmolVlmParams sp = pixtral ? SmolVlmParams{} : smolvlm_params(enc);
  const PixtralParams pp = pixtral ? pixtral_params(enc) : PixtralParams{};
  Json out = Json::array();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Json& s = sizes[i];
    POCKET_CHECK(s.is_array() && s.size() == 2, "sizes[{}] must be a [width, height] pair", i);
    const int w = to_int_side(s[0], i), h = to_int_side(s[1], i);
    // A size the reference processor rejects is a result, not a failure of the command.
    try {
      out.push_back(pixtral ? pixtral_plan_json(pixtral_plan(w, h, pp)) : smolvlm_plan_json(smolvlm_plan(w, h, sp)));
    } catch (const Error& e) {
      out.push_back(Json{{"error", e.what()}});
    }
  }
  std::cout << dump(out) << "\n";
  std::cout.flush();
}

void run_preprocess(const PreprocessOptions& o) {
  POCKET_CHECK(o.image.empty() != o.sizes.empty(), "preprocess needs exactly one of --image or --sizes");
  POCKET_CHECK(o.out.empty() || !o.image.empty(), "--out is only used with --image (--sizes prints to stdout)");
  const std::unique_ptr<VisionEncoder> enc = VisionEncoder::load(o.mmproj);
  if (!o.image.empty()) {
    run_image(*enc, o);
  } else {
    run_sizes(*enc, o);
  }
}

}  // namespace
}  // namespace pocket

void register_preprocess(CLI::App& app) {
  auto* cmd = app.add_subcommand("preprocess", "Run the image preprocessing of an mmproj (tiles/pixels or size plans)");
  auto o = std::make_shared<pocket::PreprocessOptions>();
  cmd->add_option("--mmproj", o->mmproj, "Vision projector (mmproj GGUF): picks the preprocessor")->required();
  cmd->add_option("--image", o->image, "Image file to preprocess (needs --out)");
  cmd->add_option("--out", o->out, "Output directory for plan.json and tiles / pixels.f32");
  cmd->add_option("--sizes", o->sizes, "JSON file with an array of [width, height]: print the size plans");
  cmd->callback([o] { pocket::run_preprocess(*o); });
}
