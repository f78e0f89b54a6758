// Hugging Face Hub repository listings as pure functions: parse the API's JSON into a file list,
// pick the files a model needs (a GGUF for a quant tag plus its mmproj, or a safetensors
// checkpoint), and the small string rules around them (repo ids, quant tags, Link headers).
// No network here, so the rules are unit-tested and fuzzed; runtime/hub_client does the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pocket {

struct HubFile {
  std::string path;     // relative path inside the repository ("a/b.gguf")
  uint64_t size = 0;    // bytes (the LFS object's size for LFS files)
  std::string sha256;   // lowercase hex of the content for LFS files; empty for plain git files
};

// Parses either response shape:
//  - GET /api/models/{repo}/tree/{rev}?recursive=true: a JSON array of
//    {"type":"file"|"directory","oid":git-sha1,"size":n,"path":p,"lfs":{"oid":sha256,"size":n,"pointerSize":n}}
//    (ref: huggingface.js packages/hub/src/lib/list-files.ts, ListFileEntry);
//  - GET /api/models/{repo}: an object whose "siblings" array holds {"rfilename":p} (+ "size"/"lfs"
//    when the request asks for blobs).
// Directories are dropped; entries with an unsafe path (absolute, "..", backslashes, control
// characters) are skipped, as llama.cpp's common/hf-cache.cpp does. Throws pocket::Error when the
// text is not JSON of one of these shapes or a file entry has wrongly typed fields.
std::vector<HubFile> parse_hub_listing(std::string_view json);

// The URL of the next page from an HTTP Link header (`<url>; rel="next"`), or "" when none.
std::string parse_link_next(std::string_view link_header);

// True for a relative path that stays inside its directory when joined to it.
bool is_safe_repo_path(std::string_view path);
// "owner/name": one '/', each part [A-Za-z0-9_.-] not starting or ending with '.' or '-', no "..".
bool is_valid_repo_id(std::string_view repo);

// The quantization tag of a GGUF file name, upper-cased: "SmolVLM2-256M-Video-Instruct-Q8_0.gguf"
// -> "Q8_0", "model.Q4_K_M-00001-of-00002.gguf" -> "Q4_K_M", "mmproj-x-f16.gguf" -> "F16"; "" if none.
// ref: llama.cpp common/download.cpp get_gguf_split_info (tag = last [-.]-separated word).
std::string gguf_quant_tag(std::string_view filename);
// Weight bits of a tag ("Q4_K_M" -> 4, "F16" -> 16, "BF16" -> 16); 0 when it has no digits.
int quant_tag_bits(std::string_view tag);

struct HubSelection {
  bool checkpoint = false;       // a safetensors checkpoint rather than a GGUF
  std::string quant;             // the chosen GGUF's tag (upper case); empty for checkpoints
  std::string model_file;        // the GGUF (first split part) or "config.json"
  std::string mmproj_file;       // the vision projector GGUF, or ""
  std::vector<HubFile> files;    // everything to download (model parts, mmproj, checkpoint files)
};

// Chooses the files for `quant` (case-insensitive, e.g. "Q8_0", "q4_k_m"; empty = default).
// GGUF repositories (any *.gguf that is not an mmproj/imatrix file):
//  - with a tag: the first model GGUF whose name tag equals it, else whose name contains the tag
//    followed by '.' or '-' (llama.cpp's `-hf repo:quant` rule); no match is an error that
//    lists the tags available;
//  - without a tag: the first of Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q5_0, Q4_0, F16, BF16, F32 present
//    (types Pocket runs, best first), else the smallest model GGUF;
//  - split models ("-00001-of-00003") bring every part; the first part is the model file;
//  - the mmproj is the "mmproj" GGUF in the same directory (else anywhere) whose tag equals the
//    model's, else whose bit width is closest to it (ref: llama.cpp find_best_sibling).
// Repositories without GGUFs: the safetensors checkpoint at the top level: config.json, the
// *.safetensors weights (model*.safetensors when present: Mistral repos also carry a duplicate
// consolidated.safetensors in their native layout), the index and the tokenizer, chat template,
// generation and preprocessor configs. A tag is an error there (checkpoints are quantized at load).
// Throws pocket::Error when nothing usable is listed.
HubSelection select_hub_files(const std::vector<HubFile>& files, std::string_view quant);

}  // namespace pocket
