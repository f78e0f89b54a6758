// Inputs of `pocket compare`: the JSONL prompt file, a folder of images, a video, and the
// built-in smoke suite used when none is given. The JSONL format is documented in docs/compare.md.
#pragma once

#include <string>
#include <vector>

#include "runtime/compare.h"

namespace pocket {

// One JSON object per line: {"prompt": text, "images": [paths], "video": path,
// "reference": text | [texts], "match": "exact|contains|anls", "id": text}. Blank lines and
// lines starting with '#' are skipped. Relative media paths are resolved against the file's
// folder. Throws pocket::Error naming the line on any malformed entry.
// (The parser itself is io/prompt_suite.h's parse_prompt_suite.)
std::vector<ComparePrompt> load_prompts_jsonl(const std::string& path);

// One "Describe this image." prompt (no reference) per image file in `dir` (.png .jpg .jpeg
// .webp .gif .tif .tiff), in name order. Throws when the folder has none.
std::vector<ComparePrompt> prompts_from_image_dir(const std::string& dir);

// One "Describe this video." prompt (no reference).
ComparePrompt prompt_for_video(const std::string& path);

// Short text questions with references plus one synthetic-image question.
std::vector<ComparePrompt> smoke_suite();

}  // namespace pocket
