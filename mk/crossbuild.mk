# The charter CLI builds for macOS and Windows too: Linux-only code (the eBPF
# agent) sits behind build constraints, and there the agent command only says
# it runs on Linux (issue 7 item 13).
.PHONY: test-crossbuild
test-extra:: test-crossbuild

test-crossbuild:
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/charter
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/charter
