package keystest

import (
	"bytes"
	"testing"
)

func TestSharedIsOneKeyNewIsAnother(t *testing.T) {
	msg := []byte("bundle")
	sig, err := Shared(t).SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if err := Shared(t).VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("Shared is not one key: %v", err)
	}
	if err := New(t).VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err == nil {
		t.Error("New verified a signature of the Shared key")
	}
}
