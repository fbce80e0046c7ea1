# eBPF runtime agent: toolchain, generated bindings, kernel benchmarks.
# The generated agent/charter_bpfel.{go,o} are committed; `make generate`
# rebuilds them with Debian bookworm's clang 14 and `make check-generate`
# fails when the committed files are stale.

BPF_CLANG ?= clang
BPF_CLANG_MAJOR := 14
BPF_GENERATED := agent/charter_bpfel.go agent/charter_bpfel.o

.PHONY: bpf-tools bpf-clang-version check-generate vmlinux bench-agent

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

# Regenerates the bindings and fails when that changed the committed files.
check-generate: generate
	@git diff --exit-code --stat -- $(BPF_GENERATED) \
	  || (echo "bpf: generated files are stale; run make generate and commit them"; exit 1)

test-extra:: check-generate

# Refreshes bpf/vmlinux.h from the running kernel's BTF (not part of generate:
# the header is committed so builds do not depend on the build machine's kernel).
vmlinux: bpf-tools
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

bench:: bench-agent

# Agent overhead, agent off vs monitor vs enforce, as root. The ratio uses the
# fastest of three runs of each, which is the least noisy on shared machines.
bench-agent:
	@mkdir -p $(BIN)
	@echo "== charter agent: exec and connect overhead, event throughput (test/kernel, needs root) =="
	@$(GO) test -run '^$$' -bench 'Exec|Connect' -benchtime 2000x -count 3 ./test/kernel/ | grep -v 'hook path' | tee $(BIN)/bench-agent.txt
	@$(GO) test -run '^$$' -bench 'Events' -benchtime 200000x ./test/kernel/ | grep -v 'hook path' | tee -a $(BIN)/bench-agent.txt
	@awk '/^Benchmark(Exec|Connect)\// { split($$1, p, "[/-]"); k = p[1] "/" p[2]; \
	    if (!(k in best) || $$3 < best[k]) best[k] = $$3 } \
	  /^BenchmarkEvents/ { for (i = 3; i < NF; i++) { if ($$(i+1) == "events/s") ev = $$i; if ($$(i+1) == "lost") lost = $$i } } \
	  END { if (!("BenchmarkExec/off" in best)) { print "agent benchmarks skipped (not root?)"; exit } \
	    printf "\n%-10s %14s %14s %14s %10s %10s\n", "hook", "off ns/op", "monitor ns/op", "enforce ns/op", "monitor", "enforce"; \
	    split("Exec Connect", hs, " "); for (i = 1; i <= 2; i++) { h = "Benchmark" hs[i]; o = best[h "/off"]; \
	      printf "%-10s %14d %14d %14d %9.3fx %9.3fx\n", hs[i], o, best[h "/monitor"], best[h "/enforce"], best[h "/monitor"] / o, best[h "/enforce"] / o } \
	    printf "events     %s events/s sustained, %s lost (default ring %d MiB)\n", ev, lost, 4 }' $(BIN)/bench-agent.txt
