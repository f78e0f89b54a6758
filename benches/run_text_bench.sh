#!/usr/bin/env bash
# Text decoder benchmark on the issue's reference shapes: generates the synthetic models
# (once, in $POCKET_BENCH_DIR), runs `pocket bench` at 1 and 2 threads, and, if LLAMA_BENCH
# points to a llama.cpp `llama-bench` binary, runs it on the same files with the same
# threads in the same run, and prints the ratio. Also reports the machine's read bandwidth
# and how close decode gets to bandwidth / bytes-per-token.
#   benches/run_text_bench.sh [preset:type ...]    (default: the issue's four cases)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
DIR=${POCKET_BENCH_DIR:-/tmp/pocket-bench}
REPS=${REPS:-5}
mkdir -p "$DIR"
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(smolvlm2-256m:q8_0 smolvlm2-256m:q4_0 smolvlm2-2.2b:q8_0 smolvlm2-2.2b:q4_0)
THREADS=${THREADS:-"1 2"}

bw=$("$BIN/pocket-membw" 2 1024 | sed -E 's/read bandwidth: ([0-9.]+).*/\1/')
echo "machine read bandwidth (2 threads): $bw GB/s"
for c in "${cases[@]}"; do
  preset=${c%%:*}; type=${c##*:}
  f="$DIR/$preset-$type.gguf"
  if [ ! -f "$f" ]; then
    vocab=()
    [ "$preset" != ministral3-3b ] && vocab=(--vocab-from ../shared/models/tiny-smol-q8_0.gguf)
    "$BIN/pocket-make-model" --preset "$preset" --type "$type" -o "$f" "${vocab[@]}" 2>/dev/null
  fi
  for t in $THREADS; do
    j=$("$BIN/pocket" bench -m "$f" -t "$t" -p 512 -n 128 -r "$REPS" --json)
    pp=$(echo "$j" | sed -E 's/.*"pp": \{[^}]*"median": ([0-9.]+).*/\1/')
    tg=$(echo "$j" | sed -E 's/.*"tg": \{[^}]*"median": ([0-9.]+).*/\1/')
    gbs=$(echo "$j" | sed -E 's/.*"bandwidth_gbs": ([0-9.]+).*/\1/')
    rss=$(echo "$j" | sed -E 's/.*"peak_rss_bytes": ([0-9.]+).*/\1/')
    line=$(printf "%-14s %-6s t=%s  pocket pp512 %8.2f  tg128 %7.2f tok/s  (%.1f GB/s = %.0f%% of %s GB/s)  peak %.0f MiB" \
      "$preset" "$type" "$t" "$pp" "$tg" "$gbs" "$(echo "100*$gbs/$bw" | bc -l)" "$bw" "$(echo "$rss/1048576" | bc -l)")
    if [ -n "${LLAMA_BENCH:-}" ]; then
      lj=$("$LLAMA_BENCH" -m "$f" -t "$t" -p 512 -n 128 -r "$REPS" -o json 2>/dev/null)
      lpp=$(echo "$lj" | tr -d '\n' | sed -E 's/.*"n_prompt": 512, "n_gen": 0,[^}]*"avg_ts": ([0-9.]+).*/\1/')
      ltg=$(echo "$lj" | tr -d '\n' | sed -E 's/.*"n_prompt": 0, "n_gen": 128,[^}]*"avg_ts": ([0-9.]+).*/\1/')
      line="$line | llama.cpp pp $(printf %.2f "$lpp") tg $(printf %.2f "$ltg") | ratio pp $(printf %.2f "$(echo "$pp/$lpp" | bc -l)")x tg $(printf %.2f "$(echo "$tg/$ltg" | bc -l)")x"
    fi
    echo "$line"
  done
done
