# Admission webhook: benchmarks and fuzzing. The e2e binaries come from
# mk/e2e.mk, bin/opa from mk/interop.mk.

FUZZTIME ?= 30s

.PHONY: bench-webhook fuzz-webhook

bench:: bench-webhook

# charter's webhook vs the upstream PSA webhook vs `opa run --server`, one run,
# side by side (about 1.5 minutes), then the in-process Go benchmarks.
bench-webhook: e2e-tools $(BIN)/opa
	@echo "== charter webhook vs upstream Pod Security Admission webhook vs opa run --server =="
	@$(GO) run ./test/bench/webhook > $(BIN)/bench-webhook.txt 2> $(BIN)/bench-webhook.log || (cat $(BIN)/bench-webhook.log; exit 1)
	@cat $(BIN)/bench-webhook.txt
	@$(GO) test -run '^$$' -bench . -benchtime 2000x ./webhook/ | grep -E '^Benchmark'

# The AdmissionReview decoder under the Go fuzzer.
fuzz-webhook:
	$(GO) test -run '^$$' -fuzz FuzzDecodeReview -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./webhook/
