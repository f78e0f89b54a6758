// Shared helpers for the tokenizer tests: golden file loading.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pocket::test {

inline std::string shared_path(const std::string& rel) { return std::string(POCKET_SHARED_DIR) + "/" + rel; }

inline nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

struct TokGolden {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

inline std::vector<TokGolden> smolvlm2_goldens() {
  std::vector<TokGolden> out;
  for (const auto& e : load_json(shared_path("golden/tokenizer/smolvlm2.json"))) {
    out.push_back({e.at("text").get<std::string>(), e.at("ids").get<std::vector<int32_t>>(),
                   e.at("decoded").get<std::string>()});
  }
  return out;
}

// StreamDecoder's output for one token / the flush, as a string.
inline std::string push(StreamDecoder& sd, int32_t id) {
  std::string out;
  sd.push(id, out);
  return out;
}
inline std::string flush(StreamDecoder& sd) {
  std::string out;
  sd.flush(out);
  return out;
}

}  // namespace pocket::test
