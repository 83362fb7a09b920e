# mlcanary — build, test and package. `make test` is what CI runs (.ci/run).
#
# Test tools (kube-apiserver, etcd, act, hey) are built from the Go module proxy in the tools/*
# modules and cached per user under $(TOOLS_BIN), keyed by the tools' go.sum files, so a clean clone
# reuses them and a version bump rebuilds them. .cache/bin links there for scripts and tests.

SHELL       := bash
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X github.com/mlcanary/mlcanary/internal/version.Version=$(VERSION)
CACHE_HOME  ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
TOOLS_KEY   := $(shell cat tools/act/go.sum tools/etcd/go.sum tools/hey/go.sum tools/kube-apiserver/go.sum | sha256sum | cut -c1-12)
TOOLS_BIN   ?= $(CACHE_HOME)/mlcanary/tools-$(TOOLS_KEY)
TOOLS_BUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w"
TEST_FLAGS  ?= -count=1 -timeout 20m
# RACE_PKGS: the pure packages (no API server), whose tests also run under the race detector.
RACE_PKGS   ?= ./internal/admission/... ./internal/config/... ./internal/plan/... ./internal/render/... ./internal/routing/... \
	./internal/ownership/... ./internal/summary/... ./internal/loadtest/... ./internal/verify/... ./internal/kube/... ./internal/compare/... \
	./internal/lazyregexp/...
GOLANGCI    = scripts/tool.sh golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint
# The GitHub workflows actionlint checks: the example pipelines and the act test workflows.
GITHUB_WORKFLOWS = $(wildcard .github/workflows/*.yml .github/workflows/*.yaml pipelines/github-*.yml internal/*/testdata/act/*.yml)

.PHONY: all build test istio-differential unit lint golden tools demo bench bench-compare bench-stage vsix release size clean

all: build

## build: the mlcanary binary for this machine, in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/mlcanary ./cmd/mlcanary

## test: lint, the pure packages' tests under the race detector (-short), then every test against a
## real API server, including act and the .vsix package,
## plan -o yaml|json piped into kubectl (v1.37.2) and kubeconform, and the analysis against a real
## Prometheus 3.16 fed by promtool and by scrapes (prometheus and promtool from tools/prometheus; all
## four built by scripts/tool.sh, cached per user), then
## the differential check of mlcanary's pre-write validation against Istio's own code (its own module:
## istio.io/istio is never linked into mlcanary)
test: lint tools
	$(GO) test -race -short $(TEST_FLAGS) $(RACE_PKGS)
	@rm -rf .cache/istio-writes && mkdir -p .cache/istio-writes
	kubectl=$$(scripts/tool.sh kubectl k8s.io/kubernetes/cmd/kubectl) && \
	kubeconform=$$(scripts/tool.sh kubeconform github.com/yannh/kubeconform/cmd/kubeconform) && \
	prometheus=$$(scripts/tool.sh prometheus github.com/prometheus/prometheus/cmd/prometheus) && \
	promtool=$$(scripts/tool.sh prometheus github.com/prometheus/prometheus/cmd/promtool) && \
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) MLCANARY_ACT=$(TOOLS_BIN)/act MLCANARY_REQUIRE_ACT=1 MLCANARY_REQUIRE_VSIX=1 \
		MLCANARY_KUBECTL=$$kubectl MLCANARY_KUBECONFORM=$$kubeconform \
		MLCANARY_PROMETHEUS=$$prometheus MLCANARY_PROMTOOL=$$promtool \
		MLCANARY_ISTIO_WRITES=$(CURDIR)/.cache/istio-writes $(GO) test $(TEST_FLAGS) ./...
	MLCANARY_ISTIO_WRITES=$(CURDIR)/.cache/istio-writes $(MAKE) istio-differential

## istio-differential: mlcanary's verdict on what it writes equals Istio's webhook, and Istio's analyzer
## (istioctl analyze's local analysis) finds no error in any stage's offline plan (tools/istiovalidate)
istio-differential:
	cd tools/istiovalidate && $(GO) vet ./... && $(GO) test $(TEST_FLAGS) ./...
	@if $(GO) list -deps ./cmd/mlcanary | grep -q '^istio.io/istio/'; then echo "istio.io/istio is linked into mlcanary"; exit 1; fi

## unit: the fast tier, `go test -short ./...`: the pure and in-memory tests of every package, no
## built tools needed; tests that need kube-apiserver, act, tfx-cli or node skip with -short
unit:
	$(GO) test -short ./...

## lint: gofmt, go vet and go mod tidy must be clean, actionlint finds nothing in the GitHub
## workflows (actionlint v1.7.12 from tools/actionlint; shellcheck is off with -shellcheck= so the
## gate gives the same verdict on every machine: shellcheck is not built from the Go module proxy and
## CI does not install it), and golangci-lint v2.15.0 (tools/golangci-lint) finds nothing
## with .golangci.yml, in the module and in the test-only tools/istiovalidate module
lint:
	@out=$$(gofmt -l cmd internal tools images pipelines); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	al=$$(scripts/tool.sh actionlint github.com/rhysd/actionlint/cmd/actionlint) && \
		$$al -shellcheck= -config-file tools/actionlint/actionlint.yaml $(GITHUB_WORKFLOWS)
	gl=$$($(GOLANGCI)) && $$gl run ./... && cd tools/istiovalidate && $$gl run --config ../../.golangci.yml ./...

## golden: rewrite every golden file (testdata/*.golden) from the current output; review the diff
golden: tools
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) GO=$(GO) scripts/golden.sh

## tools: kube-apiserver v1.37.2 and etcd v3.6.x for envtest, act for the GitHub Action test, hey for bench
tools: $(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/etcd $(TOOLS_BIN)/act $(TOOLS_BIN)/hey
	@mkdir -p .cache
	@if [ -e .cache/bin ] && [ ! -L .cache/bin ]; then rm -rf .cache/bin; fi
	@ln -sfn $(TOOLS_BIN) .cache/bin

$(TOOLS_BIN)/kube-apiserver:
	cd tools/kube-apiserver && $(TOOLS_BUILD) -o $@ k8s.io/kubernetes/cmd/kube-apiserver
$(TOOLS_BIN)/etcd:
	cd tools/etcd && $(TOOLS_BUILD) -o $@ go.etcd.io/etcd/server/v3
$(TOOLS_BIN)/act:
	cd tools/act && $(TOOLS_BUILD) -o $@ github.com/nektos/act
$(TOOLS_BIN)/hey:
	cd tools/hey && $(TOOLS_BUILD) -o $@ github.com/rakyll/hey

## demo: the documented flow on a local API server with Istio's CRDs; no cluster or cloud needed. It
## ends with Blue_50 --analysis on Istio's metrics in a real Prometheus (tools/prometheus, built by
## scripts/tool.sh) fed by the test gateway, which catches a degraded blue and rolls back on its own
demo: $(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/etcd
	prometheus=$$(scripts/tool.sh prometheus github.com/prometheus/prometheus/cmd/prometheus) && \
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) MLCANARY_PROMETHEUS=$$prometheus $(GO) run ./cmd/demo

## bench: the load generator vs hey on loopback (requests/s ratio) and its memory at 1e4 vs 1e6 requests
bench: $(TOOLS_BIN)/hey
	HEY=$(TOOLS_BIN)/hey scripts/bench-loadtest.sh

## bench-compare: `mlcanary compare` on loopback (two model versions behind the test gateway): requests/s
## per version and the process's max RSS at 1e4 vs 1e6 requests (BENCH_COMPARE_BIG), which must be flat
bench-compare:
	$(GO) build -trimpath -o .cache/bench/mlcanary ./cmd/mlcanary
	MLCANARY_BENCH_COMPARE=$(CURDIR)/.cache/bench/mlcanary $(GO) test -count=1 -v -timeout 60m -run TestBenchCompare ./internal/compare/

## bench-stage: on one local API server with Istio's CRDs, times the same traffic shift (Blue_50 <->
## Blue_40), interleaved, whole process each time, BENCH_ROUNDS rounds (default 25): helm upgrade
## --install of the documented objects (helm v3 from tools/helm), kubectl apply --server-side of the
## same objects (tools/kubectl) and mlcanary stage; also mlcanary's stage among 2,000 unrelated
## Deployments, Services and VirtualServices, and a rollout wait's ready -> done delay. Prints
## medians, min/max, requests per run against #12's targets, and the ratios paired by round with a
## 95% interval of their median and a verdict from it (internal/benchstage). Not part of make test.
bench-stage: build tools
	helm=$$(scripts/tool.sh helm helm.sh/helm/v3/cmd/helm) && \
	kubectl=$$(scripts/tool.sh kubectl k8s.io/kubernetes/cmd/kubectl) && \
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) MLCANARY=$(CURDIR)/bin/mlcanary HELM=$$helm KUBECTL=$$kubectl $(GO) run ./cmd/benchstage

## vsix: the Azure DevOps extension in dist/ (four cross-compiled binaries; fails over 25 MiB)
vsix:
	npm ci --no-audit --no-fund
	VERSION=$(VERSION) scripts/vsix.sh

## release: in dist/, the four binaries as the GitHub Action downloads them, the .vsix and SHA256SUMS,
## all stamped with VERSION, which must be X.Y.Z or vX.Y.Z: make release VERSION=1.2.3
release:
	VERSION=$(VERSION) scripts/release.sh

## size: stripped binary size per platform, the Marketplace's constraint
size:
	@for p in linux/amd64 linux/arm64 darwin/arm64 windows/amd64; do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o /tmp/mlcanary-size ./cmd/mlcanary && \
		printf '%-14s %10d bytes\n' $$p $$(stat -c %s /tmp/mlcanary-size); done; rm -f /tmp/mlcanary-size

clean:
	rm -rf bin dist .cache/vsix
