# eBPF runtime agent: toolchain, generated bindings, kernel benchmarks.
# The generated agent/charter_bpfel.{go,o} are committed; `make generate`
# rebuilds them with Debian bookworm's clang 14 and `make check-generate`
# fails when the committed files are stale.

BPF_CLANG ?= clang
BPF_CLANG_MAJOR := 14
BPF_GENERATED := agent/charter_bpfel.go agent/charter_bpfel.o

.PHONY: bpf-tools bpf-clang-version check-generate vmlinux bench-agent test-kernel

tools:: bpf-tools

# Installs the BPF toolchain only when a piece is missing (CI machines are fresh).
bpf-tools:
	@if ! command -v $(BPF_CLANG) >/dev/null || ! command -v llvm-strip >/dev/null \
	    || ! command -v bpftool >/dev/null || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then \
	  echo "installing clang llvm libbpf-dev bpftool"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libbpf-dev bpftool >/dev/null; \
	fi

bpf-clang-version:
	@v=$$($(BPF_CLANG) -dumpversion | cut -d. -f1); if [ "$$v" != "$(BPF_CLANG_MAJOR)" ]; then \
	  echo "bpf: clang $$v found; the committed objects are built with clang $(BPF_CLANG_MAJOR) (Debian bookworm)"; exit 1; fi

generate:: bpf-tools bpf-clang-version
	cd agent && $(GO) generate ./

# Regenerates the bindings and fails when that changed them: the committed
# files must be what the committed C sources compile to.
check-generate: bpf-tools bpf-clang-version
	@tmp=$$(mktemp -d) && cp $(BPF_GENERATED) $$tmp/ && (cd agent && $(GO) generate ./) && \
	for f in $(BPF_GENERATED); do cmp -s $$f $$tmp/$$(basename $$f) || { \
	  echo "bpf: $$f is stale; run make generate and commit it"; rm -rf $$tmp; exit 1; }; done; \
	rm -rf $$tmp; echo "bpf: generated files are up to date"

test-extra:: check-generate test-kernel

# The kernel suite, verbose (go test ./... hides the output of passing
# packages): prints the hook path each test ran on and the red-team verdicts.
# Under CI=true a skipped test or a run without a hook path line fails.
test-kernel:
	@mkdir -p $(BIN)
	@$(GO) test -count=1 -v ./test/kernel/ > $(BIN)/test-kernel.log 2>&1 || { cat $(BIN)/test-kernel.log; exit 1; }
	@echo "== kernel suite (test/kernel): hook path per test, red-team verdicts =="
	@grep -E 'hook path:|red-team:|--- SKIP' $(BIN)/test-kernel.log | sed -E 's/^ *[a-z_]+\.go:[0-9]+: //' | uniq
	@if [ "$$CI" = true ] && grep -q -- '--- SKIP' $(BIN)/test-kernel.log; then \
	  echo "kernel suite: tests skipped under CI=true"; exit 1; fi
	@if [ "$$CI" = true ] && ! grep -q 'hook path:' $(BIN)/test-kernel.log; then \
	  echo "kernel suite: no test reported a hook path under CI=true"; exit 1; fi

# Refreshes bpf/vmlinux.h from the running kernel's BTF (not part of generate:
# the header is committed so builds do not depend on the build machine's kernel).
vmlinux: bpf-tools
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

bench:: bench-agent

# Agent overhead: agent off vs monitor and enforce with a deny-list vs enforce
# with allow-lists matched by identity, as root. Each benchmark interleaves the
# modes in rounds and reports each mode's fastest round, so load from
# elsewhere on the machine hits all modes alike. Exec is fork+exec of
# /bin/true, connect a TCP connect to loopback, UDP an unconnected sendto.
bench-agent:
	@mkdir -p $(BIN)
	@echo "== charter agent: exec, connect and UDP send overhead, event throughput (test/kernel, needs root) =="
	@$(GO) test -run '^$$' -bench 'Exec|Connect' -benchtime 2000x -timeout 30m ./test/kernel/ > $(BIN)/bench-agent.txt 2>&1 || (cat $(BIN)/bench-agent.txt; exit 1)
	@$(GO) test -run '^$$' -bench 'UDP' -benchtime 200000x -timeout 30m ./test/kernel/ >> $(BIN)/bench-agent.txt 2>&1 || (cat $(BIN)/bench-agent.txt; exit 1)
	@$(GO) test -run '^$$' -bench 'Events' -benchtime 200000x ./test/kernel/ >> $(BIN)/bench-agent.txt 2>&1 || (cat $(BIN)/bench-agent.txt; exit 1)
	@grep -E 'hook path|SKIP' $(BIN)/bench-agent.txt | sort -u | sed 's/^ *//' || true
	@awk '/^Benchmark(Exec|Connect|UDP)-/ { h = substr($$1, 10); sub(/-.*/, "", h); \
	    for (i = 3; i < NF; i += 2) v[h, $$(i+1)] = $$i; n++; hs[n] = h } \
	  /^BenchmarkEvents/ { for (i = 3; i < NF; i++) { if ($$(i+1) == "events/s") ev = $$i; if ($$(i+1) == "lost") lost = $$i } } \
	  END { if (n == 0) { print "agent benchmarks skipped (see above)"; exit } \
	    printf "%-8s %10s %10s %10s %10s %9s %9s %9s\n", "op", "off ns", "monitor", "deny-list", "allow-list", "mon/off", "deny/off", "allow/off"; \
	    for (j = 1; j <= n; j++) { h = hs[j]; printf "%-8s %10.0f %10.0f %10.0f %10.0f %8.3fx %8.3fx %8.3fx\n", h, \
	      v[h, "off-ns/op"], v[h, "monitor-ns/op"], v[h, "enforce-ns/op"], v[h, "allow-ns/op"], \
	      v[h, "monitor/off"], v[h, "enforce/off"], v[h, "allow/off"] } \
	    printf "events    %.0f events/s sustained, %d lost (default 4 MiB ring buffer)\n", ev, lost; \
	    printf "kernel-accounted time per program run, allow-list mode (bpf_stats): exec_tp %s ns, connect4 %s ns, sendmsg4 %s ns\n", \
	      v["Exec", "exec_tp-ns/run"], v["Connect", "connect4-ns/run"], v["UDP", "sendmsg4-ns/run"] }' $(BIN)/bench-agent.txt
