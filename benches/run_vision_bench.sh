#!/usr/bin/env bash
# Vision tower benchmark, Pocket and llama.cpp's clip encoder on the same files, same threads, in
# one run: generates the real-shaped synthetic mmprojs and text models once (in
# $POCKET_BENCH_DIR), then per tower times Pocket's encode (pocket-vision-bench: median per tile or
# image, fraction of the measured arithmetic peak) and llama.cpp's (llama-mtmd-cli's "mtmd batch
# encoding done in N ms", median over the tiles of one image), and the whole process to the first
# token for a 1920x1080 photo with SmolVLM2-256M (13 tiles). Prints markdown table rows. Nothing
# here is a test: numbers go to the README with the machine and date.
#
#   LLAMA_MTMD=/path/llama-mtmd-cli [LLAMA_MTMD_AVX2=/path/avx2-only/llama-mtmd-cli] \
#     benches/run_vision_bench.sh
#
# LEVELS="native avx2" also runs Pocket with POCKET_ISA=avx2 against LLAMA_MTMD_AVX2 (llama.cpp
# built with GGML_NATIVE=OFF GGML_AVX2=ON GGML_AVX512=OFF). THREADS (default 2), REPS (default 3),
# TOWERS (a regex over the row presets, default all), TTFT=0 skips the whole-process rows.
# llama.cpp runs under a LLAMA_MAX_GB virtual memory limit (default 16): its Pixtral encode of
# a 1008x756 image asks for more than 24 GB and would otherwise be killed by the OOM killer.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
DIR=${POCKET_BENCH_DIR:-/tmp/pocket-bench}
REPS=${REPS:-3}
THREADS=${THREADS:-2}
LEVELS=${LEVELS:-native}
TOWERS=${TOWERS:-.}
TTFT=${TTFT:-1}
LLAMA_MAX_GB=${LLAMA_MAX_GB:-16}
SHARED=${SHARED:-../shared}
mkdir -p "$DIR"

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0 && b != "nan" && b > 0) printf "%.2fx", b / a; else print "n/a"}'; }
secs() { awk -v a="$1" 'BEGIN {if (a == "nan" || a == "") print "failed"; else printf "%.2f", a}'; }

mmproj() {  # preset type -> path (made once)
  local f="$DIR/mm-$1-$2.gguf"
  [ -f "$f" ] || "$BIN/pocket-make-mmproj" --preset "$1" --type "$2" -o "$f" >/dev/null 2>&1
  echo "$f"
}
text_model() {  # preset type -> path (made once)
  local f="$DIR/$1-$2.gguf" vocab=()
  [ "$1" != ministral3-3b ] && vocab=(--vocab-from "$SHARED/models/tiny-smol-q8_0.gguf")
  [ -f "$f" ] || "$BIN/pocket-make-model" --preset "$1" --type "$2" -o "$f" "${vocab[@]}" >/dev/null 2>&1
  echo "$f"
}
image() {  # WxH -> a test-pattern PNG
  local f="$DIR/testsrc-$1.png"
  [ -f "$f" ] || ffmpeg -v error -y -f lavfi -i "testsrc=size=$1" -frames:v 1 "$f"
  echo "$f"
}
# llama-mtmd-cli: median ms per encoded chunk (tile) of one image; the template only has to render.
llama_tile_s() {  # bin model mmproj image threads
  [ -n "$1" ] && [ -x "$1" ] || { echo nan; return; }
  { (ulimit -v $((LLAMA_MAX_GB * 1024 * 1024)); "$1" -m "$2" --mmproj "$3" --image "$4" -p "Describe." -n 1 -t "$5" \
      --chat-template chatml) 2>&1 || true; } |
    sed -nE 's/.*mtmd batch encoding done in ([0-9]+) ms.*/\1/p' | median | awk '{if ($1 == "nan") print "nan"; else print $1 / 1000}'
}
wall_s() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')), $(nproc) CPUs; $(date -u +%Y-%m-%d)"
"$BIN/pocket-peak" "$THREADS" | sed 's/^/peak: /'
echo
echo "| tower (mmproj) | input | level | threads | Pocket s | llama.cpp s | speed-up | Pocket: % of peak (products) | BF16 NMSE vs float |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
towers=("smolvlm2-256m f16 smolvlm2-256m q8_0 512x512"
        "smolvlm2-256m q8_0 smolvlm2-256m q8_0 512x512"
        "smolvlm2-2.2b f16 smolvlm2-2.2b q4_k_m 384x384"
        "pixtral-3b f16 ministral3-3b q4_k_m 1008x756")
for row in "${towers[@]}"; do
  [[ $row =~ $TOWERS ]] || continue
  read -r mpreset mtype tpreset ttype size <<<"$row"
  mm=$(mmproj "$mpreset" "$mtype"); tm=$(text_model "$tpreset" "$ttype"); img=$(image "$size")
  w=${size%x*}; h=${size#*x}
  extra=(); [ "$mpreset" = pixtral-3b ] && extra=(--width "$w" --height "$h")
  for level in $LEVELS; do
    isa=(); llama=${LLAMA_MTMD:-}
    if [ "$level" = avx2 ]; then isa=(env POCKET_ISA=avx2); llama=${LLAMA_MTMD_AVX2:-}; fi
    out=$("${isa[@]}" "$BIN/pocket-vision-bench" --mmproj "$mm" -t "$THREADS" -r "$REPS" "${extra[@]}")
    p=$(echo "$out" | sed -nE 's/^median: ([0-9.]+) s wall.*/\1/p')
    frac=$(echo "$out" | sed -nE 's/.*products are (.*): [0-9]+ GFLOP\/s = ([0-9]+)% of that peak.*/\2% (\1)/p')
    nmse=$(echo "$out" | sed -nE 's/^BF16 products vs float products: NMSE (.*)/\1/p')
    l=$(llama_tile_s "$llama" "$tm" "$mm" "$img" "$THREADS")
    echo "| $mpreset $mtype | $size | $level | $THREADS | $(secs "$p") | $(secs "$l") | $(ratio "$p" "$l") | ${frac:-n/a} | ${nmse:-n/a} |"
  done
done

# Whole process to the first token: a 1920x1080 photo with SmolVLM2-256M (13 tiles).
[ "$TTFT" = 1 ] || exit 0
echo
echo "| whole process, 1920x1080 photo, SmolVLM2-256M Q8_0 + F16 mmproj, first token | level | threads | Pocket s | llama.cpp s | speed-up |"
echo "|---|---|---:|---:|---:|---:|"
mm=$(mmproj smolvlm2-256m f16); tm=$(text_model smolvlm2-256m q8_0); img=$(image 1920x1080)
for level in $LEVELS; do
  isa=(); llama=${LLAMA_MTMD:-}
  if [ "$level" = avx2 ]; then isa=(env POCKET_ISA=avx2); llama=${LLAMA_MTMD_AVX2:-}; fi
  ps=(); ls=()
  for _ in $(seq "$REPS"); do
    ps+=("$(wall_s "${isa[@]}" "$BIN/pocket" run -m "$tm" --mmproj "$mm" --template "$SHARED/templates/smolvlm2.jinja" \
             --image "$img" -p "Describe." -n 1 -t "$THREADS")")
    if [ -n "$llama" ]; then
      ls+=("$(wall_s "$llama" -m "$tm" --mmproj "$mm" --image "$img" -p "Describe." -n 1 -t "$THREADS" --chat-template chatml)")
    fi
  done
  p=$(printf '%s\n' "${ps[@]}" | median); l=nan
  [ ${#ls[@]} -gt 0 ] && l=$(printf '%s\n' "${ls[@]}" | median)
  echo "| 13 tiles + prefill of 872 tokens | $level | $THREADS | $(secs "$p") | $(secs "$l") | $(ratio "$p" "$l") |"
done
