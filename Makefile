# ksbuilder developer tasks. "make help" lists them.
SHELL := /bin/bash
GO ?= go
BIN := bin/ksbuilder
# The version without a leading "v", as goreleaser's {{ .Version }}: v1.2.0 -> 1.2.0.
VERSION ?= $(patsubst v%,%,$(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo 0.0.0-dev+$$(git rev-parse --short=12 HEAD 2>/dev/null)))
LDFLAGS := -s -w -X main.version=$(VERSION)
# Fuzzing budgets are counts of inputs, not durations: a time budget on a
# loaded 2-core machine ends in "context deadline exceeded".
FUZZTIME ?= 2000x
# urfave_cli_no_docs leaves out urfave/cli's man-page generator (start-up time).
# -buildvcs=auto (in build) records the commit for "ksbuilder version -o json"
# even where GOFLAGS=-buildvcs=false is set.
BUILD_TAGS := urfave_cli_no_docs
TOOLS_BIN ?= $(HOME)/.cache/ksbuilder-tools/bin
GORELEASER_VERSION ?= v2.16.0
GORELEASER := $(TOOLS_BIN)/goreleaser-$(GORELEASER_VERSION)
HELM_VERSION ?= v3.22.0
HELM := $(TOOLS_BIN)/helm-$(HELM_VERSION)
CRANE_VERSION ?= v0.22.1
CRANE := $(TOOLS_BIN)/crane-$(CRANE_VERSION)
# Builds and tests link the dependencies as hack/patchdeps patches them (a
# go.mod with replace directives, written under .build/): see
# hack/patchdeps/patches.go for what and why.
PATCHED_MODFILE := .build/go.mod
MODFILE_FLAG := -modfile=$(PATCHED_MODFILE)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-15s %s\n",$$1,$$2}'

.PHONY: build
build: $(PATCHED_MODFILE) ## build bin/ksbuilder
	CGO_ENABLED=0 $(GO) build $(MODFILE_FLAG) -trimpath -buildvcs=auto -tags $(BUILD_TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ksbuilder

$(PATCHED_MODFILE): go.mod go.sum $(wildcard hack/patchdeps/*.go)
	$(GO) run ./hack/patchdeps -dir $(dir $@)

.PHONY: demo
demo: ## build ksbuilder, create an extension in a temporary directory, package it
	@echo "building $(BIN) (the first build downloads the Go modules and compiles for a few minutes)"
	@$(MAKE) --no-print-directory build >/dev/null
	@demo=$$(mktemp -d "$${TMPDIR:-/tmp}/ksbuilder-demo.XXXXXX"); \
	out=$$(./$(BIN) create --no-prompt --name hello-world --category dev-tools --author "ksbuilder demo" --dir "$$demo/hello-world" 2>&1 && \
	  ./$(BIN) validate "$$demo/hello-world" 2>&1) || { echo "$$out" >&2; exit 1; }; \
	./$(BIN) package "$$demo/hello-world" -d "$$demo" && \
	printf '%s\n' "" "Next, from this directory:" \
	  "  ./$(BIN) lint $$demo/hello-world" \
	  "  ./$(BIN) template $$demo/hello-world" \
	  "  export PATH=\"$(CURDIR)/bin:\$$PATH\"   # then just: ksbuilder --help"

# The race detector needs cgo, so a C compiler.
.PHONY: check-cc
check-cc:
	@command -v "$${CC:-cc}" >/dev/null || command -v gcc >/dev/null || { echo "make test: go test -race needs a C compiler (cgo); install one, e.g. apt-get install gcc" >&2; exit 1; }

# -timeout 30m: the end-to-end scripts of cmd/ksbuilder take 6-8 minutes under the race
# detector on 2 cores, close to go test's default of 10 per package.
.PHONY: test
test: check-cc $(PATCHED_MODFILE) ## run all tests with the race detector (needs a C compiler; unit, end-to-end, every fuzz target's seed corpus); builds the test control plane first
	assets="$${KUBEBUILDER_ASSETS:-$$(hack/install-test-cluster.sh)}" && KUBEBUILDER_ASSETS="$$assets" $(GO) test $(MODFILE_FLAG) -race -timeout 30m ./...

.PHONY: test-update
test-update: $(PATCHED_MODFILE) ## rewrite golden files and testscript expectations
	assets="$${KUBEBUILDER_ASSETS:-$$(hack/install-test-cluster.sh)}" && KUBEBUILDER_ASSETS="$$assets" UPDATE_GOLDEN=1 $(GO) test $(MODFILE_FLAG) ./...

.PHONY: test-cluster
test-cluster: ## build kube-apiserver and etcd for the integration tests (prints their directory)
	@hack/install-test-cluster.sh

.PHONY: generate
generate: ## regenerate the KubeSphere API deep-copy code and CRDs (testdata/crds)
	$(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object paths=./pkg/kubesphere/...
	$(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 crd paths=./pkg/kubesphere paths=./pkg/kubesphere/extensions paths=./pkg/kubesphere/iam paths=./pkg/kubesphere/application output:crd:dir=testdata/crds

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 2000x inputs; a duration such as 2m also works)
	@failed=""; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -parallel 2 $$pkg || failed="$$failed $$pkg.$$target"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzzing failed:$$failed" >&2; exit 1; fi

.PHONY: bench
bench: build $(HELM) $(CRANE) ## benchmarks: package vs helm package and tar, lint vs helm lint, images mirror vs crane copy (writes docs/performance.md); doctor and dev against the test cluster
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/packager/ ./pkg/lint/
	assets="$${KUBEBUILDER_ASSETS:-$$(hack/install-test-cluster.sh)}" && KUBEBUILDER_ASSETS="$$assets" $(GO) test -run '^$$' -bench DoctorHealthyCluster -benchmem ./pkg/doctor/ && KUBEBUILDER_ASSETS="$$assets" $(GO) test -run '^$$' -bench . -benchtime 10x ./pkg/dev/
	$(GO) run ./hack/bench -ksbuilder $(BIN) -helm $(HELM)
	HELM=$(HELM) ./hack/bench-lint.sh
	$(GO) run ./hack/bench-images -ksbuilder $(BIN) -crane $(CRANE)

# helm is run side by side by make bench and by TestLockMatchesHelm.
.PHONY: helm
helm: $(HELM) ## build the helm release ksbuilder is measured and checked against (into ~/.cache/ksbuilder-tools/bin)

$(HELM):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS_BIN)/helm $@

$(CRANE):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)
	mv $(TOOLS_BIN)/crane $@

.PHONY: vet
vet: ## gofmt, go vet, the import rules and the repository hygiene checks
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; [[ -z "$$unformatted" ]] || { echo "gofmt -w these files: $$unformatted" >&2; exit 1; }
	$(GO) vet ./...
	./hack/check-imports.sh
	$(GO) run ./hack/check-tracked-files

.PHONY: release-check
release-check: $(GORELEASER) ## validate .goreleaser.yaml and cross-compile every release target into dist/
	$(GORELEASER) check
	$(GORELEASER) build --snapshot --clean
	@ls dist/*/ksbuilder* | sed 's/^/  /'

$(GORELEASER):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	mv $(TOOLS_BIN)/goreleaser $@

.PHONY: clean
clean: ## remove build output
	rm -rf bin dist .build coverage.out
