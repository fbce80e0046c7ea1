# charter: the two commands a newcomer runs are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

.PHONY: all build print-ldflags demo test test-unit lint fuzz bench tools generate clean
all: build

# The release version is the VERSION file (deploy/ pins the image of the same
# tag); every make build stamps it and the commit into the binary. A plain
# `go build` says devel, or the module version `go install ...@vX` records.
CHARTER_VERSION ?= $(shell cat VERSION)
CHARTER_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
CHARTER_MODIFIED ?= $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
LDFLAGS := -X github.com/charter-dev/charter/version.version=$(CHARTER_VERSION) \
	-X github.com/charter-dev/charter/version.commit=$(CHARTER_COMMIT) \
	-X github.com/charter-dev/charter/version.modified=$(CHARTER_MODIFIED)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/charter ./cmd/charter

# The stamping flags, for tests that build the binary as make does.
print-ldflags:
	@echo '$(LDFLAGS)'

# Each area adds its own targets and prerequisites in mk/*.mk
# (tools::, test-extra::, bench::, generate::).
include $(wildcard mk/*.mk)

demo: build
	./scripts/demo.sh

# The test command CI runs. Pure packages, interop with real opa/conftest,
# and, as root, kernel and e2e suites (each says in its output what ran).
test: build tools lint
	set -o pipefail; $(GO) test -count=1 ./... 2>&1 | tee $(BIN)/test.log
	$(MAKE) test-extra

test-extra::
	@true

tools::
	@mkdir -p $(BIN)

bench::
	@true

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
# Minimizing every new input of a few KiB would otherwise stall the fuzzer for
# minutes at "0 execs/sec".
FUZZTIME ?= 30s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
fuzz::
	$(GO) test ./charter $(FUZZFLAGS) -fuzz '^FuzzParse$$'
	$(GO) test ./charter $(FUZZFLAGS) -fuzz '^FuzzParsePath$$'
	$(GO) test ./charter $(FUZZFLAGS) -fuzz '^FuzzLoadKinds$$'
	$(GO) test ./kinds $(FUZZFLAGS) -fuzz '^FuzzCheck$$'
	$(GO) test ./compiler $(FUZZFLAGS) -fuzz '^FuzzCompile$$'
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzParse$$'
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzKubectlParity$$'
	$(GO) test ./engine $(FUZZFLAGS) -fuzz '^FuzzNativeMatchesOPA$$'
	$(GO) test ./engine $(FUZZFLAGS) -fuzz '^FuzzGrammarNativeMatchesOPA$$'
	$(GO) test ./engine $(FUZZFLAGS) -fuzz '^FuzzQuantity$$'

fuzz:: fuzz-webhook

generate::
	@true

# gofmt, go vet and staticcheck, all clean: part of make test.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_bpfe[lb]\.go$$')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

clean:
	rm -rf $(BIN)
