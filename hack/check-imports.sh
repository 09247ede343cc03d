#!/usr/bin/env bash
# Enforces the layering rules of docs/development.md:
#   - library code (pkg/, create/, templates/) never imports urfave/cli or cmd/
#   - survey is only imported by pkg/prompt
#   - the test support under internal/ is only imported by tests
#   - no Helm package that links kubectl, kustomize and every typed Kubernetes
#     client (their initialisation is paid by every command at start-up)
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
while read -r pkg imports; do
  case "$pkg" in
    */cmd/*) continue ;;
  esac
  if [[ " $imports " == *"github.com/urfave/cli"* ]]; then
    echo "$pkg imports urfave/cli; keep it in cmd/" >&2; fail=1
  fi
  if [[ " $imports " == *"/ksbuilder/cmd/"* ]]; then
    echo "$pkg imports cmd/" >&2; fail=1
  fi
  if [[ "$pkg" != */internal/* && " $imports " == *"/ksbuilder/internal/"* ]]; then
    echo "$pkg imports test support from internal/; only tests may" >&2; fail=1
  fi
  if [[ "$pkg" != */pkg/prompt && " $imports " == *"github.com/AlecAivazis/survey"* ]]; then
    echo "$pkg imports survey; only pkg/prompt may" >&2; fail=1
  fi
  for heavy in helm.sh/helm/v3/pkg/repo helm.sh/helm/v3/pkg/getter helm.sh/helm/v3/pkg/cli helm.sh/helm/v3/pkg/kube helm.sh/helm/v3/pkg/action; do
    if [[ "$pkg" != */internal/* && " $imports " == *" $heavy "* ]]; then
      echo "$pkg imports $heavy, which links kubectl and kustomize into the binary (start-up time); use a lighter package" >&2; fail=1
    fi
  done
done < <(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
exit $fail
