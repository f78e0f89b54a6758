// The text pipelines of VocabTokenizer: normalizers, pre-tokenizers (splits with Hugging Face's
// delimiter behaviours), the BPE and SentencePiece models, and decoders.
// refs: huggingface/tokenizers src/tokenizer/normalizer.rs (split), src/tokenizer/pattern.rs,
// src/pre_tokenizers/{byte_level,metaspace}.rs, src/models/bpe/word.rs (merge_all),
// src/decoders/*.rs; llama.cpp src/llama-vocab.cpp (llm_tokenizer_spm_session).
#include <algorithm>
#include <queue>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace pocket::tok {

namespace {

struct Span {
  size_t b, e;
  bool match;
};

// GPT-2's pre-tokenizer pattern as Hugging Face's ByteLevel pre-tokenizer writes it.
const Regex& byte_level_regex() {
  static const Regex re(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  return re;
}

void find_regex(const Regex& re, std::string_view s, std::vector<Span>& out) {
  std::vector<std::pair<size_t, size_t>> m;
  re.find_all(s, m);
  size_t prev = 0;
  for (const auto& [b, e] : m) {
    if (b != prev) out.push_back({prev, b, false});
    out.push_back({b, e, true});
    prev = e;
  }
  if (prev != s.size()) out.push_back({prev, s.size(), false});
}

// pattern.rs: every matching character is its own match.
template <typename Pred>
void find_chars(std::string_view s, Pred pred, std::vector<Span>& out) {
  size_t last = 0, i = 0;
  while (i < s.size()) {
    const size_t b = i;
    const int32_t cp = next_cp(s, i);
    if (pred(cp)) {
      if (last < b) out.push_back({last, b, false});
      out.push_back({b, i, true});
      last = i;
    }
  }
  if (last < s.size()) out.push_back({last, s.size(), false});
}

void find_matches(const SplitPattern& p, std::string_view s, std::vector<Span>& out) {
  out.clear();
  if (s.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  switch (p.kind) {
    case SplitPattern::Kind::Regex:
      find_regex(*p.re, s, out);
      break;
    case SplitPattern::Kind::Literal: {
      if (p.literal.empty()) {
        out.push_back({0, s.size(), false});
        break;
      }
      size_t prev = 0, at = 0;
      while ((at = s.find(p.literal, prev)) != std::string_view::npos) {
        if (at != prev) out.push_back({prev, at, false});
        out.push_back({at, at + p.literal.size(), true});
        prev = at + p.literal.size();
      }
      if (prev != s.size()) out.push_back({prev, s.size(), false});
      break;
    }
    case SplitPattern::Kind::Numeric:
      find_chars(s, cp_is_numeric, out);
      break;
    case SplitPattern::Kind::Whitespace:
      find_chars(s, cp_is_whitespace, out);
      break;
    case SplitPattern::Kind::Punctuation:
      find_chars(s, cp_is_punctuation, out);
      break;
    case SplitPattern::Kind::Char:
      find_chars(s, [c = p.cp](int32_t cp) { return cp == c; }, out);
      break;
  }
  if (p.invert) {
    for (auto& sp : out) sp.match = !sp.match;
  }
}

// normalizer.rs NormalizedString::split: fold matches according to the behaviour.
void apply_behavior(std::vector<Span>& spans, SplitBehavior behavior) {
  std::vector<Span> acc;
  acc.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      acc = spans;
      break;
    case SplitBehavior::Removed:
      for (const auto& sp : spans) {
        if (!sp.match) acc.push_back(sp);
      }
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      for (const auto& sp : spans) {
        if (sp.match && !prev_match && !acc.empty()) {
          acc.back().e = sp.e;
        } else {
          acc.push_back({sp.b, sp.e, false});
        }
        prev_match = sp.match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev_match = false;
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& sp = spans[k];
        if (sp.match && !prev_match && !acc.empty()) {
          acc.back().b = sp.b;
        } else {
          acc.push_back({sp.b, sp.e, false});
        }
        prev_match = sp.match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      for (const auto& sp : spans) {
        if (sp.match == prev_match && !acc.empty()) {
          acc.back().e = sp.e;
        } else {
          acc.push_back({sp.b, sp.e, false});
        }
        prev_match = sp.match;
      }
      break;
    }
  }
  spans = std::move(acc);
}

void split_piece(const Piece& piece, const SplitPattern& pattern, SplitBehavior behavior,
                 std::vector<Span>& spans, std::vector<Piece>& out) {
  find_matches(pattern, piece.text, spans);
  apply_behavior(spans, behavior);
  for (const auto& sp : spans) {
    if (sp.e > sp.b) out.push_back({piece.text.substr(sp.b, sp.e - sp.b), piece.at_start && sp.b == 0});
  }
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);
  std::string out;
  size_t prev = 0, at = 0;
  while ((at = s.find(from, prev)) != std::string_view::npos) {
    out.append(s.substr(prev, at - prev)).append(to);
    prev = at + from.size();
  }
  out.append(s.substr(prev));
  return out;
}

std::string replace_regex(const Regex& re, std::string_view s, std::string_view to) {
  std::vector<std::pair<size_t, size_t>> m;
  re.find_all(s, m);
  std::string out;
  size_t prev = 0;
  for (const auto& [b, e] : m) {
    out.append(s.substr(prev, b - prev)).append(to);
    prev = e;
  }
  out.append(s.substr(prev));
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Normalizers

void VocabTokenizer::normalize(std::string& s) const {
  for (const NormStep& n : normalizers_) {
    switch (n.kind) {
      case NormStep::Kind::NFC: s = normalize_unicode(s, NormForm::NFC); break;
      case NormStep::Kind::NFD: s = normalize_unicode(s, NormForm::NFD); break;
      case NormStep::Kind::NFKC: s = normalize_unicode(s, NormForm::NFKC); break;
      case NormStep::Kind::NFKD: s = normalize_unicode(s, NormForm::NFKD); break;
      case NormStep::Kind::Lowercase: s = lowercase(s); break;
      case NormStep::Kind::Replace:
        s = n.re ? replace_regex(*n.re, s, n.content) : replace_all(s, n.literal, n.content);
        break;
      case NormStep::Kind::Prepend:
        if (!s.empty()) s.insert(0, n.content);
        break;
      case NormStep::Kind::Strip: {
        size_t b = 0, e = s.size();
        if (n.left) {
          while (b < e) {
            size_t j = b;
            if (!cp_is_whitespace(next_cp(s, j))) break;
            b = j;
          }
        }
        if (n.right) {
          while (e > b) {
            size_t k = e - 1;
            while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
            size_t j = k;
            if (!cp_is_whitespace(next_cp(s, j)) || j != e) break;
            e = k;
          }
        }
        s = s.substr(b, e - b);
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers

std::vector<Piece> VocabTokenizer::pre_tokenize(std::string text, bool at_start) const {
  std::vector<Piece> pieces;
  pieces.push_back({std::move(text), at_start});
  std::vector<Piece> next;
  std::vector<Span> spans;
  for (const PreTokStep& step : pre_tokenizers_) {
    next.clear();
    for (Piece& p : pieces) {
      switch (step.kind) {
        case PreTokStep::Kind::Split:
          split_piece(p, step.pattern, step.behavior, spans, next);
          break;
        case PreTokStep::Kind::ByteLevel: {
          if (step.add_prefix_space && !starts_with(p.text, " ")) p.text = std::string(1, ' ') + p.text;
          if (step.use_regex) {
            spans.clear();
            if (p.text.empty()) break;
            find_regex(byte_level_regex(), p.text, spans);
            for (const auto& sp : spans) {
              if (sp.e > sp.b) next.push_back({p.text.substr(sp.b, sp.e - sp.b), p.at_start && sp.b == 0});
            }
          } else if (!p.text.empty()) {
            next.push_back(std::move(p));
          }
          break;
        }
        case PreTokStep::Kind::Metaspace: {
          p.text = replace_all(p.text, " ", step.replacement);
          const bool prepend = step.prepend == PreTokStep::Prepend::Always ||
                               (step.prepend == PreTokStep::Prepend::First && p.at_start);
          if (prepend && !starts_with(p.text, step.replacement)) p.text.insert(0, step.replacement);
          if (step.split) {
            SplitPattern pat;
            pat.kind = SplitPattern::Kind::Literal;
            pat.literal = step.replacement;
            split_piece(p, pat, SplitBehavior::MergedWithNext, spans, next);
          } else if (!p.text.empty()) {
            next.push_back(std::move(p));
          }
          break;
        }
      }
    }
    pieces.swap(next);
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// BPE

void VocabTokenizer::bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    // ref: tokenizers src/models/bpe/model.rs (ignore_merges), llama.cpp llm_tokenizer_bpe_session.
    const auto it = byte_level_ ? text_to_id_.find(bytes_to_byte_level(word)) : text_to_id_.find(word);
    if (it != text_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> syms;
  syms.reserve(word.size());
  auto push_unk = [&]() {
    if (unk_id_ < 0) return;  // no unknown token: the character is dropped
    if (fuse_unk_ && !syms.empty() && syms.back() == unk_id_) return;
    syms.push_back(unk_id_);
  };
  if (byte_level_) {
    for (char c : word) {
      const int32_t id = byte_ids_[static_cast<unsigned char>(c)];
      if (id >= 0) {
        syms.push_back(id);
      } else {
        push_unk();
      }
    }
  } else {
    std::string key;
    size_t i = 0;
    while (i < word.size()) {
      const size_t b = i;
      i += cp_len_at(word, i);
      key.clear();
      if (b > 0) key += cont_prefix_;
      key.append(word.substr(b, i - b));
      if (i == word.size()) key += eow_suffix_;
      const auto it = text_to_id_.find(key);
      if (it != text_to_id_.end()) {
        syms.push_back(it->second);
        continue;
      }
      bool all_bytes = byte_fallback_;
      for (size_t k = b; all_bytes && k < i; ++k) all_bytes = byte_ids_[static_cast<unsigned char>(word[k])] >= 0;
      if (all_bytes) {
        for (size_t k = b; k < i; ++k) syms.push_back(byte_ids_[static_cast<unsigned char>(word[k])]);
      } else {
        push_unk();
      }
    }
  }
  bpe_merge(syms);
  out.insert(out.end(), syms.begin(), syms.end());
}

void VocabTokenizer::bpe_merge(std::vector<int32_t>& syms) const {
  const int n = static_cast<int>(syms.size());
  if (n < 2 || merges_.empty()) return;
  struct Cand {
    int32_t rank, pos;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<int32_t> prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto lookup = [&](int32_t a, int32_t b) -> const Merge* {
    const auto it = merges_.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> queue;
  for (int i = 0; i + 1 < n; ++i) {
    if (const Merge* m = lookup(syms[i], syms[i + 1])) queue.push({m->rank, i});
  }
  // Lowest rank first, leftmost on ties; entries made stale by earlier merges are skipped.
  while (!queue.empty()) {
    const Cand c = queue.top();
    queue.pop();
    if (!alive[c.pos]) continue;
    const int r = next[c.pos];
    if (r < 0) continue;
    const Merge* m = lookup(syms[c.pos], syms[r]);
    if (!m || m->rank != c.rank) continue;
    syms[c.pos] = m->new_id;
    alive[r] = 0;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    if (prev[c.pos] >= 0) {
      if (const Merge* pm = lookup(syms[prev[c.pos]], syms[c.pos])) queue.push({pm->rank, prev[c.pos]});
    }
    if (next[c.pos] >= 0) {
      if (const Merge* nm = lookup(syms[c.pos], syms[next[c.pos]])) queue.push({nm->rank, c.pos});
    }
  }
  int w = 0;
  for (int i = 0; i < n; ++i) {
    if (alive[i]) syms[w++] = syms[i];
  }
  syms.resize(w);
}

// ---------------------------------------------------------------------------------------------
// SentencePiece BPE (llama.cpp llm_tokenizer_spm_session): repeatedly merge the adjacent pair
// whose concatenation is the highest-scoring vocabulary entry; pieces that are not in the
// vocabulary fall back to byte tokens.

void VocabTokenizer::spm_text(std::string_view text, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t prev, next;
    size_t off, n;
  };
  std::vector<Sym> syms;
  size_t off = 0;
  while (off < text.size()) {
    // llama.cpp steps by the UTF-8 length its lead byte announces, clipped to the text.
    const auto lead = static_cast<unsigned char>(text[off]);
    size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, text.size() - off);
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, off, len});
    off += len;
  }
  struct Bigram {
    int32_t left, right;
    float score;
    size_t size;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const std::string_view piece = text.substr(syms[l].off, syms[l].n + syms[r].n);
    const auto it = text_to_id_.find(piece);
    if (it == text_to_id_.end()) return;
    queue.push({l, r, scores_[it->second], piece.size()});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram bg = queue.top();
    queue.pop();
    Sym& l = syms[bg.left];
    Sym& r = syms[bg.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != bg.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = bg.left;
    try_add(l.prev, bg.left);
    try_add(bg.left, l.next);
  }
  for (int32_t i = syms.empty() ? -1 : 0; i != -1; i = syms[i].next) {
    const std::string_view piece = text.substr(syms[i].off, syms[i].n);
    const auto it = text_to_id_.find(piece);
    if (it != text_to_id_.end()) {
      out.push_back(it->second);
    } else {
      push_unknown_bytes(piece, out);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoders. `stream` decodes one token of a longer sequence: position-dependent steps apply
// only when `first` says the token starts the text.

void VocabTokenizer::run_decoders(std::vector<std::string>& toks, bool stream, bool first) const {
  bool fused = false;
  for (const DecodeStep& d : decoders_) {
    switch (d.kind) {
      case DecodeStep::Kind::ByteLevel:
        for (auto& t : toks) {
          // A token whose characters are all byte images becomes those bytes; any other token
          // keeps its UTF-8 (ref: tokenizers src/pre_tokenizers/byte_level.rs, decode_chain).
          std::string bytes;
          bytes.reserve(t.size());
          size_t i = 0;
          bool ok = true;
          while (i < t.size()) {
            const int b = byte_from_cp(next_cp(t, i));
            if (b < 0) {
              ok = false;
              break;
            }
            bytes += static_cast<char>(b);
          }
          if (ok) t = std::move(bytes);
        }
        break;
      case DecodeStep::Kind::ByteFallback:
        for (auto& t : toks) {
          if (t.size() == 6 && starts_with(t, "<0x") && t[5] == '>') {
            auto hex = [](char c) -> int {
              if (c >= '0' && c <= '9') return c - '0';
              if (c >= 'A' && c <= 'F') return c - 'A' + 10;
              if (c >= 'a' && c <= 'f') return c - 'a' + 10;
              return -1;
            };
            const int hi = hex(t[3]), lo = hex(t[4]);
            if (hi >= 0 && lo >= 0) t = std::string(1, static_cast<char>(hi * 16 + lo));
          }
        }
        break;
      case DecodeStep::Kind::Metaspace: {
        std::string rep;
        append_utf8(rep, static_cast<uint32_t>(d.cp));
        for (size_t i = 0; i < toks.size(); ++i) {
          const bool drop = i == 0 && (!stream || first) && !d.prepend_never;
          toks[i] = replace_all(toks[i], rep, drop ? "" : " ");
        }
        break;
      }
      case DecodeStep::Kind::Replace:
        for (auto& t : toks) t = d.re ? replace_regex(*d.re, t, d.content) : replace_all(t, d.literal, d.content);
        break;
      case DecodeStep::Kind::Fuse:
        if (stream) {
          fused = true;
        } else if (toks.size() > 1) {
          std::string all;
          for (const auto& t : toks) all += t;
          toks.assign(1, std::move(all));
        }
        break;
      case DecodeStep::Kind::Strip: {
        std::string c;
        append_utf8(c, static_cast<uint32_t>(d.cp));
        const bool do_start = !(stream && fused) || first;
        const bool do_stop = !(stream && fused);
        for (auto& t : toks) {
          if (do_start) {
            for (int k = 0; k < d.start && starts_with(t, c); ++k) t.erase(0, c.size());
          }
          if (do_stop) {
            for (int k = 0; k < d.stop && t.size() >= c.size() && t.compare(t.size() - c.size(), c.size(), c) == 0; ++k) {
              t.resize(t.size() - c.size());
            }
          }
        }
        break;
      }
      case DecodeStep::Kind::BpeSuffix:
        for (size_t i = 0; i < toks.size(); ++i) {
          const bool last = !stream && i + 1 == toks.size();
          toks[i] = replace_all(toks[i], d.content, last ? "" : " ");
        }
        break;
    }
  }
}

}  // namespace pocket::tok
