# Council overrides: the document parser and the verifier under the Go fuzzer.

.PHONY: fuzz-overrides

fuzz-overrides:
	$(GO) test ./overrides $(FUZZFLAGS) -fuzz '^FuzzParse$$'
	$(GO) test ./overrides $(FUZZFLAGS) -fuzz '^FuzzVerify$$'

fuzz:: fuzz-overrides
