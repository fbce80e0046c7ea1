# charter audit scan, report renderers and charter diff.
fuzz::
	$(GO) test ./internal/manifest $(FUZZFLAGS) -fuzz '^FuzzFieldPos$$'
