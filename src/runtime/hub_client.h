// Hugging Face Hub over HTTPS (libcurl): list a repository's files and download one with a
// progress bar, resuming from `<file>.part` with an HTTP Range request, retrying dropped
// connections, and verifying the sha256 the Hub publishes for LFS files. Configuration comes
// from the environment as huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/hub_listing.h"

namespace pocket {

struct HubConfig {
  std::string endpoint = "https://huggingface.co";  // no trailing slash
  std::string token;                                // sent as "Authorization: Bearer <token>"
  bool offline = false;
  // HF_ENDPOINT, HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), POCKET_OFFLINE / HF_HUB_OFFLINE.
  static HubConfig from_env();
};

// True when the variable is set to 1/true/yes/on (any case).
bool env_flag(const char* name);

// "512 B", "1.5 KiB", "273.0 MiB", "4.67 GiB".
std::string format_byte_size(uint64_t n);
// "0:07", "12:34", "1:02:03"; "--:--" when unknown (negative, NaN or over 99 hours).
std::string format_eta(double seconds);
// One progress line (no '\r'): "name.gguf  45% [#########           ] 123.4 MiB / 273.0 MiB  12.3 MiB/s  ETA 0:12".
// total == 0 means unknown (no percentage, bar or ETA); bytes_per_s <= 0 shows "--". The label is
// shortened with "..." so the line fits in `width` columns when it can.
std::string format_progress(std::string_view label, uint64_t done, uint64_t total, double bytes_per_s, int width = 100);

class HubClient {
 public:
  // show_progress: draw the bar on stderr (callers pass isatty(stderr) && !quiet).
  HubClient(HubConfig cfg, bool show_progress);

  const HubConfig& config() const { return cfg_; }

  // Every file of `repo` at `revision`, following the API's Link pagination. Throws pocket::Error
  // with a clear message for 401/403 (token missing or refused), 404 and unreachable endpoints.
  std::vector<HubFile> list_files(const std::string& repo, const std::string& revision = "main") const;

  // Downloads `file` to `dest` through `dest + ".part"`: an existing .part is resumed with a Range
  // request, dropped connections are retried (max_attempts in all), and the result is checked
  // against file.size and file.sha256 (when known). On a sha256 mismatch the .part is deleted and
  // pocket::Error thrown; on other failures the .part is kept so the next pull resumes it.
  void download(const std::string& repo, const HubFile& file, const std::string& dest,
                const std::string& revision = "main") const;

  std::string file_url(const std::string& repo, const std::string& path, const std::string& revision = "main") const;

  int max_attempts = 4;
  double retry_delay_s = 0.25;  // doubled after each failed attempt

 private:
  HubConfig cfg_;
  bool show_progress_;
};

}  // namespace pocket
