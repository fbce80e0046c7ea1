# Interop with the real peer tools (opa, conftest) and the lint tool (staticcheck).
#
# Each tool is built from its own pinned tools module under tools/ into the
# ignored bin/ directory. A binary is rebuilt only when it is missing or its
# module's go.mod/go.sum (the pin) changed. opa and conftest live in separate
# modules so that each is built exactly with the dependencies its own release
# selects (conftest v0.71.1 pins opa v1.21.1; a shared module would silently
# upgrade it to v1.22.3).

tools:: $(BIN)/opa $(BIN)/conftest $(BIN)/staticcheck

$(BIN)/opa: tools/opa/go.mod tools/opa/go.sum
	@mkdir -p $(BIN)
	cd tools/opa && GOFLAGS=-mod=mod $(GO) build -trimpath -o $(BIN)/opa github.com/open-policy-agent/opa

$(BIN)/conftest: tools/conftest/go.mod tools/conftest/go.sum
	@mkdir -p $(BIN)
	cd tools/conftest && GOFLAGS=-mod=mod $(GO) build -trimpath -o $(BIN)/conftest github.com/open-policy-agent/conftest

$(BIN)/staticcheck: tools/staticcheck/go.mod tools/staticcheck/go.sum
	@mkdir -p $(BIN)
	cd tools/staticcheck && GOFLAGS=-mod=mod $(GO) build -trimpath -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

# Benchmarks: compile+bundle a generated 1,000-article charter, and charter eval
# vs conftest test on >= 10,000 generated manifests, side by side in one run.
# The restricted charter; until it exists, the first shipped charter that does.
BENCH_CHARTER ?= $(firstword $(wildcard policies/pod-security-restricted.yaml policies/anti-delos.yaml) engine/testdata/charter.yaml)
BENCH_MANIFESTS ?= 10000

.PHONY: bench-compile bench-eval
bench:: bench-compile bench-eval

bench-compile:
	$(GO) test -run '^$$' -bench 'CompileBundle' -benchtime 3x -count 1 ./test/bench/
	$(GO) test -run '^$$' -bench 'Decide' -benchtime 2000x -count 1 ./test/bench/

bench-eval: build tools
	$(GO) run ./test/bench/cmd/evalbench -charter $(BENCH_CHARTER) -n $(BENCH_MANIFESTS) \
		-charter-bin $(BIN)/charter -conftest-bin $(BIN)/conftest
