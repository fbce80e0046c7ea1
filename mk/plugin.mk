# The OPA runtime plugin (plugin/, `charter opa run`): fuzzing of the native
# decision route's body reader. Its interop tests (test/interop) run with the
# real opa in go test ./...; its benchmark is a row of bench-webhook.

.PHONY: fuzz-plugin
fuzz:: fuzz-plugin

fuzz-plugin:
	$(GO) test ./plugin $(FUZZFLAGS) -fuzz '^FuzzParseInput$$'
