# Council overrides: the document parser, the verifier, the choice between
# versions of one id (NewSet), and native-vs-Rego
# agreement on applying verified overrides, under the Go fuzzer.

.PHONY: fuzz-overrides

fuzz-overrides:
	$(GO) test ./overrides $(FUZZFLAGS) -fuzz '^FuzzParse$$'
	$(GO) test ./overrides $(FUZZFLAGS) -fuzz '^FuzzVerify$$'
	$(GO) test ./overrides $(FUZZFLAGS) -fuzz '^FuzzNewSet$$'
	$(GO) test ./engine $(FUZZFLAGS) -fuzz '^FuzzOverridesNativeMatchesOPA$$'

fuzz:: fuzz-overrides
