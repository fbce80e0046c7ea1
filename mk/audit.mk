# Audit log: fuzzing, the long crash test and benchmarks.

AUDIT_CRASH_SECONDS ?= 60

.PHONY: fuzz-audit crash-audit bench-audit

# The log reader/verifier and the proof parser under the Go fuzzer.
fuzz-audit:
	$(GO) test ./audit $(FUZZFLAGS) -fuzz '^FuzzVerify$$'
	$(GO) test ./audit $(FUZZFLAGS) -fuzz '^FuzzCheckProof$$'

fuzz:: fuzz-audit

# kill -9 a writer at random points for AUDIT_CRASH_SECONDS (go test runs it
# for 3 s), then check every acknowledged record survived.
crash-audit:
	AUDIT_CRASH_SECONDS=$(AUDIT_CRASH_SECONDS) $(GO) test -count=1 -run '^TestCrashKill9$$' -timeout 0 -v ./audit | grep -E 'crash test|^(ok|FAIL|---)'

bench:: bench-audit

# Append throughput with fsync group commit at 1, 8 and 64 writers (and
# without fsync), then verify of 1,000,000 records. The webhook's req/s and
# p99 with --audit-sync are the charter+audit row of bench-webhook.
bench-audit:
	@echo "== audit log: append with fsync group commit, verify of 1,000,000 records =="
	@$(GO) run ./test/bench/audit
