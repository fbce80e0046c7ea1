# Signing: the pinned cosign CLI for the interop tests, fuzz targets of the
# key loader and the bundle verifier, and the signing benchmarks.

tools:: $(BIN)/cosign

# cosign v3.1.3 from its own tools module (a cold build takes several minutes).
$(BIN)/cosign: tools/cosign/go.mod tools/cosign/go.sum
	@mkdir -p $(BIN)
	cd tools/cosign && GOFLAGS=-mod=mod $(GO) build -trimpath -o $(BIN)/cosign github.com/sigstore/cosign/v3/cmd/cosign

fuzz::
	$(GO) test ./keys $(FUZZFLAGS) -fuzz '^FuzzParsePrivate$$'
	$(GO) test ./keys $(FUZZFLAGS) -fuzz '^FuzzParsePublic$$'
	$(GO) test ./bundles $(FUZZFLAGS) -fuzz '^FuzzVerify$$'
