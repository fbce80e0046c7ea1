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
	$(GO) test ./bundles $(FUZZFLAGS) -fuzz '^FuzzStrictJSON$$'
	$(GO) test ./bundles/oci $(FUZZFLAGS) -fuzz '^FuzzParseReference$$'
	$(GO) test ./bundles/oci $(FUZZFLAGS) -fuzz '^FuzzCheckPayload$$'

# Sign and verify time beside opa build --signing-key and cosign sign-blob /
# verify-blob, on the anti-delos and a generated 1,000-article bundle.
.PHONY: bench-sign
bench:: bench-sign

bench-sign: build tools
	$(GO) run ./test/bench/cmd/signbench -charter policies/anti-delos.yaml -articles 1000 \
		-charter-bin $(BIN)/charter -opa-bin $(BIN)/opa -cosign-bin $(BIN)/cosign
