package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateVerifies(t *testing.T) {
	b, err := Generate(Options{Service: "charter-webhook", Namespace: "charter"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(b.Cert, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b.CA) {
		t.Fatal("CA does not parse")
	}
	for _, name := range []string{"charter-webhook.charter.svc", "charter-webhook.charter.svc.cluster.local", "localhost", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.charter.svc", Roots: roots}); err == nil {
		t.Error("certificate verifies for a name it was not issued for")
	}
}

func TestGenerateNeedsService(t *testing.T) {
	if _, err := Generate(Options{Namespace: "x"}); err == nil {
		t.Fatal("no error without a service")
	}
}

func TestWrite(t *testing.T) {
	b, err := Generate(Options{Service: "s", Namespace: "n"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir has %d entries, want 3 (no temporary files left)", len(entries))
	}
}
