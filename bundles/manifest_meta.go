package bundles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Release is what a signature adds to a bundle's manifest, under
// metadata.serial and metadata.expires.
//
// The manifest revision stays the content digest of the policy files: it
// names *what* is enforced, and two signings of the same policy share it.
// Serial names *which release* it is: a signer raises it for every release
// (default: the Unix time of signing), and an enforcement point refuses a
// serial lower than the one it runs, so an old signed bundle cannot be
// replayed.
type Release struct {
	Serial  int64
	Expires time.Time // zero: never
}

// withRelease returns the manifest with metadata.serial and metadata.expires
// set, every other field kept. Keys are written sorted, so the result only
// depends on the input and r.
func withRelease(manifest []byte, r Release) ([]byte, error) {
	m, err := decodeObject(manifest)
	if err != nil {
		return nil, fmt.Errorf("bad .manifest: %w", err)
	}
	meta, _ := m["metadata"].(map[string]any)
	if meta == nil {
		if m["metadata"] != nil {
			return nil, fmt.Errorf("bad .manifest: metadata is not an object")
		}
		meta = map[string]any{}
	}
	meta["serial"] = json.Number(strconv.FormatInt(r.Serial, 10))
	delete(meta, "expires")
	if !r.Expires.IsZero() {
		meta["expires"] = r.Expires.UTC().Format(time.RFC3339)
	}
	m["metadata"] = meta
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// releaseOf reads metadata.serial (required) and metadata.expires (optional)
// of a manifest.
func releaseOf(manifest []byte) (Release, error) {
	var r Release
	m, err := decodeObject(manifest)
	if err != nil {
		return r, fmt.Errorf("bad .manifest: %w", err)
	}
	meta, _ := m["metadata"].(map[string]any)
	n, ok := meta["serial"].(json.Number)
	if !ok {
		return r, fmt.Errorf("the signed .manifest has no metadata.serial (an integer), so rollback cannot be checked")
	}
	if r.Serial, err = strconv.ParseInt(n.String(), 10, 64); err != nil {
		return r, fmt.Errorf("metadata.serial %s is not a 64-bit integer", n)
	}
	if e, present := meta["expires"]; present {
		s, ok := e.(string)
		if !ok {
			return r, fmt.Errorf("metadata.expires is not an RFC 3339 time string")
		}
		if r.Expires, err = time.Parse(time.RFC3339, s); err != nil {
			return r, fmt.Errorf("metadata.expires %q is not an RFC 3339 time", s)
		}
	}
	return r, nil
}

func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return m, nil
}
