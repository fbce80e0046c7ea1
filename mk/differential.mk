# The grammar-based native == OPA differential (engine/grammar_test.go).
# go test ./... hides the log of a passing package, so the test writes its
# counts to GRAMMAR_SUMMARY and make test prints them after the run.
export GRAMMAR_SUMMARY := $(BIN)/grammar-differential.txt

.PHONY: grammar-summary
test-extra:: grammar-summary

grammar-summary:
	@if [ -f $(GRAMMAR_SUMMARY) ]; then cat $(GRAMMAR_SUMMARY); rm -f $(GRAMMAR_SUMMARY); \
	  else echo "grammar differential: no summary (engine tests did not run)"; exit 1; fi
