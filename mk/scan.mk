# charter audit scan, report renderers and charter diff.
fuzz::
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzFieldPos$$'
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzNullDocument$$'
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzFastObject$$'

# charter audit scan beside conftest test on 10,000 and 100,000 generated
# objects and of 10,000 Pods from the e2e kube-apiserver: objects/s, peak RSS
# (targets: >= 10x conftest, RSS flat within 2x).
SCAN_SIZES ?= 10000,100000
SCAN_CLUSTER ?= 10000
.PHONY: bench-scan
bench:: bench-scan
bench-scan: build tools e2e-tools
	$(GO) run ./test/bench/cmd/scanbench -charter $(BENCH_CHARTER) -sizes $(SCAN_SIZES) -cluster $(SCAN_CLUSTER) \
		-charter-bin $(BIN)/charter -conftest-bin $(BIN)/conftest
