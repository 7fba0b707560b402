# AstraGuard build. Every target is phony; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
BUF_VER   := 1.75.0
BUF       := $(BIN)/buf
HELM_VER  := v3.22.0
HELM      := $(BIN)/helm
STATICCHECK_VER := v0.8.2
STATICCHECK := $(BIN)/staticcheck
BENCHSTAT_VER := v0.0.0-20260908200009-22c9c6c9d4da
# Test-only modules with heavy dependencies of their own (toxiproxy,
# gobreaker, ...), kept out of the service's go.mod; each replaces the
# service module with ../.
SUBMODULES := test/bench test/chaos deploy/envoy
# Test-only modules whose tests make test-deploy (part of make check) runs
# (Prometheus' PromQL engine, Kubernetes API types, chromedp,
# go-containerregistry): they build helm, an image and drive a browser, so
# they stay out of make test, the developer's loop.
TEST_MODULES := deploy test/browser
# Extra flags for make test's go test runs, e.g. TESTFLAGS=-short to skip
# the longest suites (chaos, scale-out, reload under load, version
# stamping).
TESTFLAGS ?=
GRPC_ADDR ?= 127.0.0.1:50051
HTTP_ADDR ?= 127.0.0.1:8080

.PHONY: help generate lint breaking depcheck test test-deploy fuzz build run check \
        check-generated tidy-check check-config check-rules check-helm image bench-breaker bench-service bench-detector bench-checkpoint eval soak soak-scaleout chaos tools envoy-check

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# buf never enters go.mod (it drags in a pre-release protobuf): install it pinned
# into bin/ once and reuse it while the version matches (a cold build takes minutes).
$(BUF):
	@if ! [ -x $(BUF) ] || [ "$$($(BUF) --version)" != "$(BUF_VER)" ]; then \
		echo "installing buf v$(BUF_VER)"; \
		GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@v$(BUF_VER); fi

# helm is built from source into bin/ once (minutes cold); the stamp file
# records the version because a go-installed helm cannot report its patch.
$(HELM):
	@if ! [ -x $(HELM) ] || [ "$$(cat $(BIN)/.helm-version 2>/dev/null)" != "$(HELM_VER)" ]; then \
		echo "installing helm $(HELM_VER)"; \
		GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VER) && echo $(HELM_VER) > $(BIN)/.helm-version; fi

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)

$(BIN)/benchstat:
	GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VER)

tools: $(BUF) $(STATICCHECK) ## install pinned dev tools into bin/
	@[ "$$($(BUF) --version)" = "$(BUF_VER)" ] || { rm -f $(BUF); $(MAKE) $(BUF); }

generate: tools ## regenerate gen/ from proto/ with pinned plugins
	GOBIN=$(BIN) $(GO) install tool
	PATH=$(BIN):$$PATH $(BUF) generate

check-generated: generate ## fail when gen/ drifts from proto/
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has untracked or stale files"; exit 1; }

lint: tools ## buf lint/format, gofmt, go vet, staticcheck
	$(BUF) lint
	$(BUF) format --diff --exit-code
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@for m in $(SUBMODULES) $(TEST_MODULES); do (cd $$m && $(GO) vet ./... && $(STATICCHECK) ./...) || exit 1; done

breaking: tools ## buf breaking against main
	@if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto 2>/dev/null; then \
		$(BUF) breaking --against '.git#branch=main'; else echo "no proto on main yet: nothing to compare"; fi

depcheck: ## enforce the package dependency direction (docs/architecture.md)
	@bash scripts/depcheck.sh

tidy-check: ## go mod tidy leaves no diff, in every module
	$(GO) mod tidy -diff
	@for m in $(SUBMODULES) $(TEST_MODULES); do (cd $$m && $(GO) mod tidy -diff) || exit 1; done

test: ## the developer's loop: every test of the service module and the chaos module with -race -shuffle=on, then the allocation tests without -race; builds no external tool (needs Go and a C compiler)
	$(GO) test -race -shuffle=on -count=1 -timeout=15m $(TESTFLAGS) ./...
	cd test/chaos && $(GO) test -race -shuffle=on -count=1 -timeout=15m $(TESTFLAGS) ./...
	@# -race makes sync.Pool drop items, so allocation tests skip under it;
	@# they live on the hot path's packages.
	$(GO) test -count=1 -run 'Alloc' ./breaker/... ./detector/... ./internal/model/... ./server/... ./internal/store/...

test-deploy: $(HELM) ## the test-only modules (part of make check): deploy/ (dashboard and rules against the real exposition, the container image, Helm manifests; builds helm) and test/browser/ (the breaker page in headless Chromium)
	@if [ "$$CI" = true ]; then bash scripts/need-apt.sh chromium chromium; fi
	@for m in $(TEST_MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race -shuffle=on -count=1 -timeout=15m ./...) || exit 1; done

fuzz: ## run each fuzz target for a bounded time
	@bash scripts/fuzz.sh $(FUZZTIME)

build: ## build the binaries into bin/
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

check-config: build ## validate every shipped configuration example with --check-config
	@for f in examples/config/*.yaml; do $(BIN)/astraguard --config "$$f" --check-config || exit 1; done

run: ## run the service with the embedded model
	$(GO) run ./cmd/astraguard --grpc-addr=$(GRPC_ADDR) --http-addr=$(HTTP_ADDR)

check-rules: ## promtool: lint the Prometheus rules and run their unit tests (installs Debian's prometheus when missing)
	@bash scripts/need-apt.sh promtool prometheus
	promtool check rules deploy/prometheus/astraguard-rules.yml
	promtool test rules deploy/prometheus/astraguard-rules.test.yml

check-helm: $(HELM) ## helm lint --strict and helm template the chart, plain and with the model server
	$(HELM) lint --strict deploy/helm/astraguard
	$(HELM) lint --strict deploy/helm/astraguard --set model.enabled=true,state.existingClaim=ag-state,replicaCount=1
	$(HELM) template ag deploy/helm/astraguard >/dev/null
	$(HELM) template ag deploy/helm/astraguard --set model.enabled=true >/dev/null

image: ## build the container image without a Docker daemon into dist/astraguard-image.tar and check entrypoint, user, labels, static binaries
	cd deploy && $(GO) run ./cmd/agimage -o ../dist/astraguard-image.tar -tag astraguard:dev -check

check: check-generated lint depcheck breaking tidy-check build check-config fuzz check-rules check-helm image envoy-check test-deploy ## everything CI runs besides make test (the test-only modules included)

bench-breaker: $(BIN)/benchstat ## breaker overhead vs gobreaker and failsafe-go
	bash test/bench/run.sh

bench-service: ## server CPU/sample and latency of astraguard (model, breaker open) vs a bare gRPC echo (COUNT=3)
	bash scripts/bench-service.sh

soak: soak-scaleout ## minutes of load at the highest sustainable rate, model path then breaker open; fails on a lost verdict (DURATION=2m per phase)
	bash scripts/soak.sh

bench-detector: ## detector cost per sample and live heap per series at 100,000 series, vs BASE (main) with benchstat (COUNT=5)
	bash scripts/bench-detector.sh

bench-checkpoint: ## state checkpoint and restore time and snapshot size for 100,000 series (COUNT=5)
	$(GO) test -run='^$$' -bench='Checkpoint|Restore' -benchmem -count=$${COUNT:-5} ./internal/checkpoint/ ./detector/

soak-scaleout: ## the scale-out test (kill, drain, add a replica) over 1,000 series; prints the moved and warmed-up shares
	set -o pipefail; $(GO) test -count=1 -timeout=10m -run '^TestScaleOut$$' -v ./test/scaleout/ -args -scaleout.series=1000 | grep -E 'RESULT|^(---|ok|FAIL)'

envoy-check: ## strict decode of deploy/envoy/envoy.yaml against Envoy's v3 API protos (own module; part of make check)
	cd deploy/envoy && $(GO) test -count=1 ./...

eval: ## score the NAB dev subset and the spacecraft channels (60 s, 300 s) through the service (model, heuristic), cross-validate both offline; fails below internal/nabeval/cv.json floors
	bash scripts/eval.sh

chaos: ## model faults through toxiproxy (down, latency, resets, trickle, flapping, kill/restart), long phases, summary table
	cd test/chaos && $(GO) test -race -count=1 -timeout=20m -run '^TestChaos$$' -v . -args -chaos.full
