// `pocket preprocess`: runs the image preprocessor an mmproj GGUF implies, without the vision
// tower, so its output can be compared with the reference processors.
//  - --image IMG --out DIR: idefics3 (SmolVLM2) writes DIR/plan.json and every tile as an 8-bit
//    RGB PNG (DIR/tile<k>.png, model order, global tile last, before rescale/normalize);
//    pixtral writes DIR/plan.json and DIR/pixels.f32 (normalized float32, CHW, little-endian).
//  - --sizes SIZES.json (a JSON array of [w, h]): prints a JSON array with the size arithmetic
//    of each entry, or {"error": ...} where the reference processor fails.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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

#include "apps/cli/common.h"
#include "core/error.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

using Json = nlohmann::ordered_json;

struct PreprocessOptions {
  std::string mmproj, image, out, sizes;
  cli::ImageDetailArgs detail;
};

// ---------------------------------------------------------------- files

std::string dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void make_out_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  POCKET_CHECK(!ec && std::filesystem::is_directory(dir), "cannot create output directory '{}'{}{}", dir,
               ec ? ": " : "", ec ? ec.message() : "");
}

// ---------------------------------------------------------------- modes

void run_image(const VisionEncoder& enc, const PreprocessOptions& o) {
  POCKET_CHECK(!o.out.empty(), "preprocess --image needs --out DIR");
  // Decode before touching the output directory, so a bad image leaves nothing behind.
  const PreprocessDump d = enc.preprocess_dump(enc.load_image_file(o.image), o.detail.resolve(enc));
  make_out_dir(o.out);
  const std::filesystem::path dir(o.out);
  for (const auto& [name, bytes] : d.files) cli::write_file((dir / name).string(), std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  cli::write_file((dir / "plan.json").string(), d.plan_json + "\n");
  std::fprintf(stderr, "%s; wrote %s\n", d.summary.c_str(), o.out.c_str());
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
  const Json sizes = Json::parse(cli::read_file(o.sizes), nullptr, false);
  POCKET_CHECK(!sizes.is_discarded(), "'{}' is not valid JSON", o.sizes);
  POCKET_CHECK(sizes.is_array(), "'{}' must hold a JSON array of [width, height] pairs", o.sizes);
  const ImageDetail detail = o.detail.resolve(enc);
  Json out = Json::array();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Json& s = sizes[i];
    POCKET_CHECK(s.is_array() && s.size() == 2, "sizes[{}] must be a [width, height] pair", i);
    const int w = to_int_side(s[0], i), h = to_int_side(s[1], i);
    // A size the reference processor rejects is a result, not a failure of the command.
    try {
      out.push_back(Json::parse(enc.size_plan_json(w, h, detail)));
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
  o->detail.add(cmd);
  cmd->callback([o] { pocket::run_preprocess(*o); });
}
