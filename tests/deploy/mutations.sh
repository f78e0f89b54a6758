#!/usr/bin/env bash
# The deploy check must fail on broken files: each mutation below is applied to a copy of the
# deployment files and check_deploy.py must reject it, naming the problem.
#   mutations.sh SOURCE_DIR POCKET_BINARY
set -uo pipefail
src=$1 pocket=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
# file | sed expression | text the check must print
cases=(
  "deploy/kubernetes/deployment.yaml|s/readinessProbe:/readynessProbe:/|unknown field 'readynessProbe'"
  "deploy/kubernetes/deployment.yaml|s/containerPort: 8080/containerPort: \"8080\"/|int expected"
  "deploy/kubernetes/deployment.yaml|s/- name: pocket\$/- image: x/|\`name\`, must not be \`None\`"
  "deploy/kubernetes/deployment.yaml|s/--max-queue/--max-queu/|has no flag --max-queu"
  "deploy/kubernetes/service.yaml|s/targetPort: http/targetPort: web/|targetPort web"
  "deploy/kubernetes/hpa.yaml|s/name: pocket_queue_depth/name: pocket_queue_length/|no metric pocket_queue_length"
  "Dockerfile|s/ libcurl4 / /|providing libcurl.so.4"
  "Dockerfile|s/^USER 10001/USER 10002/|runAsUser differ"
)
for c in "${cases[@]}"; do
  IFS='|' read -r file expr expect <<<"$c"
  rm -rf "$tmp/s" && mkdir -p "$tmp/s/apps/server"
  cp -r "$src/deploy" "$src/Dockerfile" "$tmp/s/" && cp "$src/apps/server/metrics.cpp" "$tmp/s/apps/server/"
  sed -i "$expr" "$tmp/s/$file"
  if cmp -s "$src/$file" "$tmp/s/$file"; then
    echo "FAIL: '$expr' changed nothing in $file"; status=1; continue
  fi
  out=$(/usr/bin/python3 "$here/check_deploy.py" "$tmp/s" "$pocket" 2>&1)
  if [ $? -eq 0 ] || ! grep -qF -- "$expect" <<<"$out"; then
    echo "FAIL: $file '$expr' was not reported as \"$expect\":"; echo "$out"; status=1
  else
    echo "ok: $file '$expr' -> $(grep -F -- "$expect" <<<"$out" | head -1)"
  fi
done
exit $status
