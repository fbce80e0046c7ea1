package reporttest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	sarifOnce   sync.Once
	sarifSchema *jsonschema.Schema
	sarifErr    error
)

// SchemaPath is the vendored SARIF 2.1.0 schema (see report/testdata/README.md).
func SchemaPath() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "testdata", "sarif-schema-2.1.0.json")
}

func compileSARIF() (*jsonschema.Schema, error) {
	f, err := os.Open(SchemaPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://json.schemastore.org/sarif-2.1.0-rtm.5.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// ValidateSARIF fails the test unless data is one SARIF 2.1.0 log the
// published schema accepts.
func ValidateSARIF(t testing.TB, data []byte) {
	t.Helper()
	sarifOnce.Do(func() { sarifSchema, sarifErr = compileSARIF() })
	if sarifErr != nil {
		t.Fatalf("SARIF schema: %v", sarifErr)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sarifSchema.Validate(v); err != nil {
		t.Fatalf("SARIF output fails the SARIF 2.1.0 schema: %v", err)
	}
}
