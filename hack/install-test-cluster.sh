#!/usr/bin/env bash
# Builds the Kubernetes control plane the integration tests run against:
# kube-apiserver and etcd, compiled from the Go module proxy (no release
# downloads, no Docker). Safe to run again: binaries that already report the
# pinned versions are kept, so a warm run takes well under a second.
#
#   export KUBEBUILDER_ASSETS="$(hack/install-test-cluster.sh)"
#
# stdout: one line, the directory holding kube-apiserver and etcd.
# stderr: progress. A cold build takes about 4 minutes on 2 cores.
#
# Settings (environment):
#   TEST_CLUSTER_CACHE  where to keep the binaries
#                       [${XDG_CACHE_HOME:-$HOME/.cache}/kubesphere-test-cluster]
set -Eeuo pipefail

# Pinned versions. k8s.io/kubernetes v1.36.3 is the newest release whose
# module zip the Go proxy serves; check another with
# "go list -m -versions k8s.io/kubernetes" before bumping.
readonly KUBE_VERSION=v1.36.3
readonly ETCD_VERSION=v3.6.16

say() { printf 'install-test-cluster: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

if [[ $# -gt 0 ]]; then
  case $1 in
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unexpected argument '$1' (this script takes none; see --help)" ;;
  esac
fi

cache=${TEST_CLUSTER_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/kubesphere-test-cluster}
bin="$cache/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION/bin"

if command -v go >/dev/null; then
  go=$(command -v go)
elif [[ -x /usr/local/go/bin/go ]]; then
  go=/usr/local/go/bin/go
else
  fail "Go is not installed (looked in PATH and /usr/local/go/bin)"
fi

apiserver_ok() {
  [[ -x $bin/kube-apiserver && "$("$bin/kube-apiserver" --version 2>/dev/null)" == "Kubernetes $KUBE_VERSION" ]]
}
etcd_ok() {
  [[ -x $bin/etcd && "$("$bin/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: /v/p')" == "$ETCD_VERSION" ]]
}

mkdir -p "$bin"
# One build at a time per cache, even with parallel CI jobs.
exec 9>"$cache/.lock"
if command -v flock >/dev/null; then
  flock 9
fi

work=""
cleanup() { if [[ -n $work ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# newmodule DIR IMPORT: a throwaway main module whose only job is to import
# IMPORT, so "go build" resolves its dependencies with our replace lines
# (replace directives inside a dependency's own go.mod are ignored).
newmodule() {
  mkdir -p "$1"
  (cd "$1" && "$go" mod init "$(basename "$1")" >/dev/null 2>&1)
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$2" >"$1/tools.go"
}

build_etcd() {
  local dir="$work/etcd"
  newmodule "$dir" go.etcd.io/etcd/server/v3
  (cd "$dir" && "$go" mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  say "resolving etcd $ETCD_VERSION"
  (cd "$dir" && "$go" mod tidy) >&2 ||
    fail "cannot resolve go.etcd.io/etcd/server/v3@$ETCD_VERSION on the Go proxy"
  say "building etcd $ETCD_VERSION"
  (cd "$dir" && "$go" build -trimpath -ldflags '-s -w' -o etcd go.etcd.io/etcd/server/v3) >&2 ||
    fail "building etcd failed"
  mv -f "$dir/etcd" "$bin/etcd"
}

build_apiserver() {
  local dir="$work/kube" gomod staging minor ldflags pkg
  newmodule "$dir" k8s.io/kubernetes/cmd/kube-apiserver
  say "resolving k8s.io/kubernetes $KUBE_VERSION"
  gomod=$(cd "$dir" && "$go" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || fail "cannot download k8s.io/kubernetes@$KUBE_VERSION from the Go proxy"
  (cd "$dir" && "$go" mod edit -require="k8s.io/kubernetes@$KUBE_VERSION")
  # k8s.io/kubernetes points its staging modules (k8s.io/api, ...) at
  # ./staging; use the published v0.X.Y of each one instead.
  minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  staging="v0.${KUBE_VERSION#v1.}"
  while read -r mod; do
    (cd "$dir" && "$go" mod edit -replace="$mod=$mod@$staging")
  done < <(awk '/^require \(/ { inblock = 1; next } inblock && /^\)/ { inblock = 0 }
                inblock && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod")
  say "resolving the kube-apiserver dependencies"
  (cd "$dir" && "$go" mod tidy) >&2 || fail "cannot resolve the dependencies of kube-apiserver $KUBE_VERSION"
  # The same version stamps as Kubernetes' own build, so --version and
  # /version report $KUBE_VERSION.
  ldflags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  say "building kube-apiserver $KUBE_VERSION (a few minutes on a cold build cache)"
  (cd "$dir" && "$go" build -trimpath -ldflags "$ldflags" -o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver) >&2 ||
    fail "building kube-apiserver failed"
  mv -f "$dir/kube-apiserver" "$bin/kube-apiserver"
}

if ! etcd_ok || ! apiserver_ok; then
  export GOWORK=off GOFLAGS=-buildvcs=false
  work=$(mktemp -d "${TMPDIR:-/tmp}/install-test-cluster.XXXXXX")
  started=$SECONDS
  etcd_ok || build_etcd
  apiserver_ok || build_apiserver
  say "built in $((SECONDS - started))s"
fi
etcd_ok || fail "$bin/etcd does not report etcd $ETCD_VERSION"
apiserver_ok || fail "$bin/kube-apiserver does not report Kubernetes $KUBE_VERSION"
say "kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION are in $bin"
echo "$bin"
