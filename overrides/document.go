package overrides

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sigs.k8s.io/yaml"
)

// APIVersion and Kind identify an Override document (and the Override
// objects of the CRD that carries them in a cluster).
const (
	APIVersion = "charter.dev/v1"
	Kind       = "Override"
)

// MaxDocumentSize bounds an override file: a document with a handful of
// signatures is a few KiB.
const MaxDocumentSize = 256 << 10

// Document is one Override. Its id is metadata.name, so the same document is
// a file (charter override request/approve) and a Kubernetes object.
type Document struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Metadata    `json:"metadata"`
	Spec       Spec        `json:"spec"`
	Signatures []Signature `json:"signatures,omitempty"`
}

// Metadata names the override.
type Metadata struct {
	Name string `json:"name"` // the override id
}

// Spec is what the council approves.
type Spec struct {
	Charter   string    `json:"charter"`  // metadata.name of the charter
	Articles  []string  `json:"articles"` // article ids the override lifts
	Scope     Scope     `json:"scope"`
	Reason    string    `json:"reason"`
	Requester string    `json:"requester"`
	NotBefore time.Time `json:"notBefore"`
	Expires   time.Time `json:"expires"`
}

// Scope is the set of objects an override covers: one namespace, one kind,
// the names matching a glob (* and ?), and optionally only objects with
// these labels.
type Scope struct {
	Namespace     string         `json:"namespace"`
	Kind          string         `json:"kind"`
	Name          string         `json:"name"`
	LabelSelector *LabelSelector `json:"labelSelector,omitempty"`
}

// LabelSelector restricts a scope to objects carrying every one of these labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// Signature is one council member's approval: an ECDSA signature (ASN.1
// DER, base64) over Payload, with the id of the key that made it
// (keys.ID: "sha256:" and the hex digest of the public key's DER).
type Signature struct {
	KeyID     string `json:"keyid"`
	Signature string `json:"signature"`
}

// ID is the override id (metadata.name).
func (d *Document) ID() string { return d.Metadata.Name }

// Parse reads one Override document, YAML or JSON. Unknown fields,
// duplicate keys, a second document and oversized input are refused: a
// reader that saw something else than the signer did could be tricked.
// The result is structurally valid (Check).
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, malformed("document is %d bytes; the limit is %d", len(data), MaxDocumentSize)
	}
	if bytes.Contains(data, []byte("\n---")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("---")) {
		return nil, malformed("a file holds exactly one Override document (found a --- separator)")
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, malformed("not a YAML or JSON document: %v", err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, malformed("empty document: expected an Override")
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, malformed("%v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("data after the document")
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Marshal writes the document as YAML.
func (d *Document) Marshal() ([]byte, error) {
	data, err := yaml.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode override: %w", err)
	}
	return data, nil
}
