// Tokenizer base helpers and StreamDecoder (UTF-8 hold-back for streamed token pieces).
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace pocket {

bool Tokenizer::is_eog(int32_t id) const {
  return std::find(eog_ids_.begin(), eog_ids_.end(), id) != eog_ids_.end();
}

namespace {

// Length of the sequence a lead byte announces (0 for bytes that cannot start one).
size_t utf8_expected_len(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

}  // namespace

TokenPieces::TokenPieces(const Tokenizer& tok) {
  const int32_t n = tok.n_vocab();
  pieces_.resize(static_cast<size_t>(n));
  kind_.resize(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    const TokenAttr a = tok.token_attr(id);
    pieces_[id] = tok.stream_piece(id, false);
    kind_[id] = a == TokenAttr::Normal || a == TokenAttr::Byte ? 0 : (a == TokenAttr::Control ? 2 : 1);
  }
}

void StreamDecoder::push(int32_t id, std::string& out) {
  if (skip_control_ && tok_.token_attr(id) == TokenAttr::Control && !std::binary_search(keep_.begin(), keep_.end(), id))
    return;
  if (started_ && pieces_) {
    pending_ += pieces_->piece(id);
  } else {
    const std::string piece = tok_.stream_piece(id, !started_);
    if (!piece.empty()) started_ = true;
    pending_ += piece;
  }
  size_t i = 0;
  while (i < pending_.size()) {
    const auto b = static_cast<unsigned char>(pending_[i]);
    const size_t need = utf8_expected_len(b);
    if (need > 1 && i + need > pending_.size()) {
      // Possibly the start of a character whose remaining bytes come with the next token:
      // hold it back if what we have so far is a valid prefix.
      bool prefix_ok = true;
      for (size_t k = i + 1; k < pending_.size(); ++k) {
        if ((static_cast<unsigned char>(pending_[k]) & 0xC0) != 0x80) prefix_ok = false;
      }
      if (prefix_ok) break;
    }
    size_t j = i;
    const int32_t cp = tok::next_cp(pending_, j);
    if (cp < 0) {
      tok::append_utf8(out, 0xFFFD);
      j = i + tok::invalid_run_len(pending_, i);
    } else {
      out.append(pending_, i, j - i);
    }
    i = j;
  }
  pending_.erase(0, i);
}

void StreamDecoder::flush(std::string& out) {
  out += tok::sanitize_utf8(pending_);
  pending_.clear();
}

}  // namespace pocket
