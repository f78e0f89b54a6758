// The SmolVLM2 prompt text for one image and for one video: the token layout the reference
// processor writes in place of `<image>` / `<video>` (media/ produces the tiles and frames).
// ref: transformers models/smolvlm/processing_smolvlm.py.
#pragma once

#include <string>
#include <vector>

namespace pocket {

struct SmolVlmPromptTokens {
  std::string fake_token_around_image = "<fake_token_around_image>";
  std::string image_token = "<image>";
  std::string global_image_token = "<global-img>";
};

// rows x cols crops (each `<row_r_col_c>` + image_seq_len `<image>`) then the global tile;
// rows = cols = 0: the global tile alone (an image that is not split).
std::string smolvlm_image_prompt(int rows, int cols, int image_seq_len, const SmolVlmPromptTokens& tokens = {});

// The exact text replacing one `<video>`: intro with the frame count in words and the
// duration as H:MM:SS, then "\nFrame from MM:SS:" + one global tile (image_seq_len `<image>`)
// per frame, then "\n\n". image_seq_len: 64 (256M/500M) or 81 (2.2B).
std::string smolvlm_video_prompt(const std::vector<std::string>& timestamps, double duration, int image_seq_len,
                                 const SmolVlmPromptTokens& tokens = {});

}  // namespace pocket
