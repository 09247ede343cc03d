#!/usr/bin/env bash
# Compares "ksbuilder lint" with "helm lint --with-subcharts" on the same
# charts: every corpus extension that packages, as whole processes, RUNS
# times each (default 7), and reports the medians and their ratio. The
# result replaces the "## lint" section of docs/performance.md.
#
# ksbuilder lints the extension directory: it packages it, runs Helm's linter
# on the chart and every subchart, renders the host release (and the agent
# release of Multicluster extensions) and runs its own rules. helm lints the
# chart that "ksbuilder package" produced, expanded, with its subcharts.
#
# Then the whole corpus at once: one "ksbuilder lint DIR" of a directory
# holding every extension that packages (linted in parallel on all cores)
# against a loop of "helm lint --with-subcharts" over the same charts, one
# after the other. Target: ratio <= 0.5 on 2 cores.
#
# HELM names the helm binary ("make bench" passes the one it installs); by
# default helm v3.22.0 is installed with "go install" into
# $HOME/.cache/ksbuilder-bench/bin when it is not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-7}
GO=${GO:-go}
BENCH_BIN=${BENCH_BIN:-$HOME/.cache/ksbuilder-bench/bin}
HELM=${HELM:-$BENCH_BIN/helm}
DOC=docs/performance.md

if [[ ! -x $HELM ]]; then
  echo "installing helm v3.22.0 into $BENCH_BIN" >&2
  GOBIN=$BENCH_BIN $GO install helm.sh/helm/v3/cmd/helm@v3.22.0
fi
make --no-print-directory build >&2
KSB=$PWD/bin/ksbuilder

work=$(mktemp -d "${TMPDIR:-/tmp}/ksbuilder-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median_ms CMD...: runs CMD $RUNS times (output discarded, exit status
# ignored: both tools exit 1 on findings) and prints the median in ms.
median_ms() {
  local times=() start end
  for ((i = 0; i < RUNS; i++)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'
}

rows=()
charts=()
mkdir -p "$work/all"
for ext in testdata/corpus/ks-extensions/*/ testdata/corpus/extension-samples/*/; do
  ext=${ext%/}
  name=$(basename "$ext")
  [[ $name == packaged-by-* ]] && continue
  if ! pkg=$("$KSB" package "$ext" -d "$work/pkg" 2>/dev/null); then
    echo "skipping $name: it does not package" >&2
    continue
  fi
  pkg=${pkg%% (*}
  mkdir -p "$work/chart/$name"
  tar -xzf "$pkg" -C "$work/chart/$name"
  chart=$(find "$work/chart/$name" -mindepth 1 -maxdepth 1 -type d)
  helm_ms=$(median_ms "$HELM" lint --with-subcharts "$chart")
  ksb_ms=$(median_ms "$KSB" lint "$ext")
  ratio=$(awk -v k="$ksb_ms" -v h="$helm_ms" 'BEGIN {printf "%.2f", (h > 0) ? k / h : 0}')
  echo "$name: helm lint ${helm_ms} ms, ksbuilder lint ${ksb_ms} ms, ratio $ratio" >&2
  rows+=("| $name | $helm_ms | $ksb_ms | $ratio |")
  charts+=("$chart")
  cp -R "$ext" "$work/all/$name"
done

# helm_all lints every chart with helm, one process after the other, as a
# CI loop would.
helm_all() {
  local c
  for c in "${charts[@]}"; do
    "$HELM" lint --with-subcharts "$c" || true
  done
}
all_helm_ms=$(median_ms helm_all)
all_ksb_ms=$(median_ms "$KSB" lint "$work/all")
all_ratio=$(awk -v k="$all_ksb_ms" -v h="$all_helm_ms" 'BEGIN {printf "%.2f", (h > 0) ? k / h : 0}')
echo "all ${#charts[@]}: helm lint loop ${all_helm_ms} ms, ksbuilder lint DIR ${all_ksb_ms} ms, ratio $all_ratio" >&2

section=$(
  echo "<!-- bench:lint:start -->"
  echo "## lint"
  echo
  echo "\`hack/bench-lint.sh\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, $RUNS runs each, medians of whole processes)."
  echo "\`helm lint --with-subcharts\` (helm v3.22.0) on the chart \`ksbuilder package\` produces, expanded;"
  echo "\`ksbuilder lint\` on the extension directory: packaging, Helm's linter on the chart and every subchart,"
  echo "the host release and, for Multicluster extensions, the agent release rendered, and every rule. Target: ratio <= 2."
  echo
  echo "| extension | helm lint (ms) | ksbuilder lint (ms) | ratio |"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "The whole corpus at once: \`ksbuilder lint DIR\` on a directory holding the ${#charts[@]} extensions above (found"
  echo "and linted in parallel, one process) against a shell loop of \`helm lint --with-subcharts\` over their charts."
  echo "Target: ratio <= 0.5 on 2 cores."
  echo
  echo "| extensions | helm lint loop (ms) | ksbuilder lint DIR (ms) | ratio |"
  echo "|---|---:|---:|---:|"
  echo "| ${#charts[@]} | $all_helm_ms | $all_ksb_ms | $all_ratio |"
  echo
  echo "Go benchmarks of the library alone: \`go test ./pkg/lint -run '^\$' -bench Lint\`."
  echo "<!-- bench:lint:end -->"
)

mkdir -p docs
if [[ ! -f $DOC ]]; then
  printf '# Performance\n\nMeasurements of ksbuilder, each section written by a script under hack/.\n' >"$DOC"
fi
# Replace the lint section (between its markers), or append it.
awk -v section="$section" '
  $0 == "<!-- bench:lint:start -->" { print section; skip = 1; done = 1; next }
  $0 == "<!-- bench:lint:end -->" { skip = 0; next }
  !skip { print }
  END { if (!done) { print ""; print section } }
' "$DOC" >"$work/doc" && cat -s "$work/doc" >"$DOC"
echo "wrote the lint section of $DOC" >&2
