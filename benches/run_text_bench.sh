#!/usr/bin/env bash
# Text decoder benchmark, Pocket and llama.cpp on the same files, same threads, in one run:
# generates the real-shaped synthetic models once (in $POCKET_BENCH_DIR), then for each case,
# kernel level and thread count runs `pocket bench` and `llama-bench` back to back and prints
# one markdown table row (median tokens/s, ratio, decode's share of the bandwidth limit, peak
# RSS of both). Nothing here is a test: numbers go to the README with the machine and date.
#
#   LLAMA_BENCH=/path/llama-bench [LLAMA_BENCH_AVX2=/path/avx2-only/llama-bench] \
#     benches/run_text_bench.sh [preset:type ...]
#
# Cases default to the K-quant issue's rows. LEVELS="native avx2" also runs Pocket with
# POCKET_ISA=avx2 against LLAMA_BENCH_AVX2 (llama.cpp built with GGML_NATIVE=OFF GGML_AVX2=ON
# GGML_AVX512=OFF). THREADS (default "1 2"), PP / TG (prompt and generated tokens, default 256 /
# 32) and REPS (default 3) set the shape. Peak RSS of llama-bench comes from GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
DIR=${POCKET_BENCH_DIR:-/tmp/pocket-bench}
REPS=${REPS:-3}
PP=${PP:-256}
TG=${TG:-32}
THREADS=${THREADS:-"1 2"}
LEVELS=${LEVELS:-native}
mkdir -p "$DIR"
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(smolvlm2-2.2b:q4_k_m smolvlm2-2.2b:q5_k_m smolvlm2-2.2b:q8_0
                                 ministral3-3b:q4_k_m ministral3-3b:q5_k_m ministral3-3b:q8_0)

# Median of the numbers on stdin.
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# A number field of a one-line JSON object: json_num KEY < line
json_num() { sed -nE "s/.*\"$1\": ([0-9.eE+-]+).*/\1/p"; }
# llama-bench -o jsonl: median of samples_ts of the line with the given n_prompt / n_gen.
llama_median() {
  grep -E "\"n_prompt\": $1, \"n_gen\": $2," | sed -nE 's/.*"samples_ts": \[([^]]*)\].*/\1/p' | tr ',' '\n' | median
}
fmt1() { awk -v a="$1" 'BEGIN {if (a == "nan") print a; else printf "%.1f", a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; $(date -u +%Y-%m-%d)"
echo "read bandwidth: 1 thread $("$BIN/pocket-membw" 1 1024 | sed -E 's/read bandwidth: ([0-9.]+).*/\1/') GB/s," \
     "2 threads $("$BIN/pocket-membw" 2 1024 | sed -E 's/read bandwidth: ([0-9.]+).*/\1/') GB/s"
echo
echo "| file | level | threads | Pocket pp$PP | llama.cpp pp$PP | ratio | Pocket tg$TG | llama.cpp tg$TG | ratio | Pocket decode / bandwidth limit | peak RSS Pocket / llama.cpp (MiB) |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  preset=${c%%:*}; type=${c##*:}
  f="$DIR/$preset-$type.gguf"
  if [ ! -f "$f" ]; then
    vocab=()
    [ "$preset" != ministral3-3b ] && vocab=(--vocab-from ../shared/models/tiny-smol-q8_0.gguf)
    "$BIN/pocket-make-model" --preset "$preset" --type "$type" -o "$f" "${vocab[@]}" >/dev/null 2>&1
  fi
  for level in $LEVELS; do
    isa=(); llama=${LLAMA_BENCH:-}
    if [ "$level" = avx2 ]; then isa=(env POCKET_ISA=avx2); llama=${LLAMA_BENCH_AVX2:-}; fi
    for t in $THREADS; do
      j=$("${isa[@]}" "$BIN/pocket" bench -m "$f" -t "$t" -p "$PP" -n "$TG" -r "$REPS" --json)
      kern=$(echo "$j" | sed -nE 's/.*"kernels": "([a-z0-9]+)".*/\1/p')
      pp=$(echo "$j" | sed -E 's/.*"pp": \{[^}]*"median": ([0-9.]+).*/\1/')
      tg=$(echo "$j" | sed -E 's/.*"tg": \{[^}]*"median": ([0-9.]+).*/\1/')
      frac=$(echo "$j" | json_num fraction_of_bandwidth_limit)
      rss=$(echo "$j" | json_num peak_rss_bytes)
      lpp=nan; ltg=nan; lrss=nan
      if [ -n "$llama" ]; then
        out=$(/usr/bin/time -f 'maxrss_kb %M' -o "$DIR/.time" "$llama" -m "$f" -t "$t" -p "$PP" -n "$TG" -r "$REPS" -o jsonl 2>/dev/null)
        lpp=$(echo "$out" | llama_median "$PP" 0)
        ltg=$(echo "$out" | llama_median 0 "$TG")
        lrss=$(awk '/maxrss_kb/ {printf "%.0f", $2 / 1024}' "$DIR/.time")
      fi
      printf "| %s %s | %s | %s | %.1f | %s | %s | %.1f | %s | %s | %.0f%% | %.0f / %s |\n" "$preset" "$type" "$kern" "$t" \
        "$pp" "$(fmt1 "$lpp")" "$(ratio "$pp" "$lpp")" "$tg" "$(fmt1 "$ltg")" "$(ratio "$tg" "$ltg")" \
        "$(awk -v f="$frac" 'BEGIN {print 100 * f}')" "$(awk -v r="$rss" 'BEGIN {print r / 1048576}')" "$lrss"
    done
  done
done
