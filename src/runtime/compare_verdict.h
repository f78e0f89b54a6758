// The verdict of `pocket compare`: which model ships under the user's constraints, and why.
//
// Constraints mark models out (with the reason and the numbers), they never hide them.
// Among the eligible models the ranking rule is lexicographic, each step with a tie margin
// so that measurement noise does not decide:
//   1. quality: mean score on the prompts with references (higher first; only when some
//      prompt has a reference; ties within 0.01),
//   2. decode tokens/s (higher first; ties within 5%),
//   3. peak resident memory (lower first; ties within 5%),
//   4. text time to first token (lower first; ties within 5%),
//   5. the order given on the command line.
// The deciding criterion is the first one that separates the winner from the runner-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/compare.h"

namespace pocket {

struct CompareConstraints {
  std::string name;                      // shown in reports ("default" for the flags)
  std::optional<uint64_t> max_ram_bytes; // peak resident memory
  std::optional<double> max_ttft_ms;     // text TTFT, and the TTFT of every needed media kind
  std::optional<double> min_tokens_per_second;  // decode throughput
  std::vector<std::string> needs;        // "images", "multi-image", "video", "tools"
  bool empty() const { return !max_ram_bytes && !max_ttft_ms && !min_tokens_per_second && needs.empty(); }
  std::string describe() const;  // "max-ram 2 GiB, needs video" or "none"
};

// "2G", "512M", "1.5GiB", "300k", "123456" (bytes; K/M/G/T are powers of 1024, an optional
// "B" or "iB" suffix is accepted). Throws pocket::Error on junk.
uint64_t parse_size(std::string_view s);
// "video,tools" -> {"video", "tools"}; throws on unknown capabilities.
std::vector<std::string> parse_needs(std::string_view s);
// "max-ram=2G,max-ttft=500,min-tps=10,needs=video+tools" (for --scenario).
CompareConstraints parse_scenario(std::string_view s);

std::string format_size_iec(uint64_t bytes);  // "1.5 GiB", "512.0 MiB"

struct ModelVerdict {
  size_t model = 0;                     // index into the measurements
  bool eligible = false;
  std::vector<std::string> violations;  // why it is out (empty when eligible)
  int rank = 0;                         // 1 = ships; 0 when not eligible
};

struct CompareVerdict {
  CompareConstraints constraints;
  std::optional<size_t> winner;       // index into the measurements
  std::string deciding_criterion;     // "quality", "decode_tokens_per_second", ..., "only_eligible", "none"
  std::string summary;                // one sentence with the deciding numbers
  std::vector<ModelVerdict> models;   // ranked first (rank order), then the excluded in input order
};

CompareVerdict decide(const std::vector<ModelMeasurement>& models, const CompareConstraints& c);

}  // namespace pocket
