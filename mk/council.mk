# Shamir custody of council keys: the share-file parser under the Go fuzzer.

.PHONY: fuzz-council

fuzz-council:
	$(GO) test ./council $(FUZZFLAGS) -fuzz '^FuzzParse$$'

fuzz:: fuzz-council
