package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature/options"
)

const testPassword = "correct horse"

// testPair is generated once: scrypt makes every key derivation cost ~100 ms.
var testPair = func() *Pair {
	p, err := Generate([]byte(testPassword))
	if err != nil {
		panic(err)
	}
	return p
}()

// editEnvelope rewrites the JSON envelope inside an encrypted private key PEM.
func editEnvelope(t testing.TB, priv []byte, edit func(map[string]any)) []byte {
	t.Helper()
	block, _ := pem.Decode(priv)
	var env map[string]any
	if err := json.Unmarshal(block.Bytes, &env); err != nil {
		t.Fatal(err)
	}
	edit(env)
	data, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: data})
}

func setScrypt(name string, v float64) func(map[string]any) {
	return func(env map[string]any) {
		env["kdf"].(map[string]any)["params"].(map[string]any)[name] = v
	}
}

func TestGenerateWritesCosignFormat(t *testing.T) {
	if !bytes.HasPrefix(testPair.Private, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")) {
		t.Errorf("private key PEM header: %q", strings.SplitN(string(testPair.Private), "\n", 2)[0])
	}
	if !bytes.HasPrefix(testPair.Public, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("public key PEM header: %q", strings.SplitN(string(testPair.Public), "\n", 2)[0])
	}
	block, _ := pem.Decode(testPair.Private)
	var env struct {
		KDF struct {
			Name   string         `json:"name"`
			Params map[string]int `json:"params"`
		} `json:"kdf"`
		Cipher struct {
			Name string `json:"name"`
		} `json:"cipher"`
	}
	if err := json.Unmarshal(block.Bytes, &env); err != nil {
		t.Fatal(err)
	}
	if env.KDF.Name != "scrypt" || env.Cipher.Name != "nacl/secretbox" {
		t.Errorf("envelope kdf %q cipher %q, want scrypt and nacl/secretbox", env.KDF.Name, env.Cipher.Name)
	}
}

func TestSignWithPrivateVerifyWithPublic(t *testing.T) {
	sv, err := ParsePrivate(testPair.Private, []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("bundle digest")
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParsePublic(testPair.Public)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("public key does not verify the private key's signature: %v", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("other"))); err == nil {
		t.Error("signature verified over a different message")
	}
	digest := sha256.Sum256(msg)
	if err := v.VerifySignature(bytes.NewReader(sig), nil, options.WithDigest(digest[:])); err != nil {
		t.Errorf("verify by digest: %v", err)
	}
	pub, _ := v.PublicKey()
	if !IsP256(pub) {
		t.Errorf("generated key is %T, want ECDSA P-256", pub)
	}
	svPub, _ := sv.PublicKey()
	id1, _ := ID(pub)
	id2, _ := ID(svPub)
	if id1 != id2 || !strings.HasPrefix(id1, "sha256:") || len(id1) != len("sha256:")+64 {
		t.Errorf("key ids %q and %q", id1, id2)
	}
}

func TestParsePrivateErrors(t *testing.T) {
	tests := []struct {
		name     string
		key      []byte
		password string
		want     error
		msg      string
	}{
		{"wrong password", testPair.Private, "wrong horse", ErrWrongPassword, "wrong password"},
		{"empty password for a protected key", testPair.Private, "", ErrWrongPassword, "wrong password"},
		{"scrypt N raised", editEnvelope(t, testPair.Private, setScrypt("N", 1<<30)), testPassword, ErrKDFParameters, "scrypt"},
		{"scrypt N lowered", editEnvelope(t, testPair.Private, setScrypt("N", 2)), testPassword, ErrKDFParameters, "scrypt"},
		{"scrypt r changed", editEnvelope(t, testPair.Private, setScrypt("r", 1)), testPassword, ErrKDFParameters, "scrypt"},
		{"scrypt p changed", editEnvelope(t, testPair.Private, setScrypt("p", 64)), testPassword, ErrKDFParameters, "scrypt"},
		{"salt altered", editEnvelope(t, testPair.Private, func(env map[string]any) {
			env["kdf"].(map[string]any)["salt"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		}), testPassword, ErrWrongPassword, "wrong password"},
		{"kdf renamed", editEnvelope(t, testPair.Private, func(env map[string]any) {
			env["kdf"].(map[string]any)["name"] = "pbkdf2"
		}), testPassword, ErrCorruptKey, "unknown kdf"},
		{"cipher renamed", editEnvelope(t, testPair.Private, func(env map[string]any) {
			env["cipher"].(map[string]any)["name"] = "aes"
		}), testPassword, ErrCorruptKey, "unknown cipher"},
		{"nonce truncated", editEnvelope(t, testPair.Private, func(env map[string]any) {
			env["cipher"].(map[string]any)["nonce"] = "AAAA"
		}), testPassword, ErrCorruptKey, "nonce"},
		{"envelope not JSON", pem.EncodeToMemory(&pem.Block{Type: PrivateKeyPEMType, Bytes: []byte("not json")}), testPassword, ErrCorruptKey, "corrupted"},
		{"not PEM", []byte("hello"), testPassword, ErrNotAKey, "no PEM block"},
		{"public key given", testPair.Public, testPassword, ErrNotAKey, "this is a public key"},
		{"unencrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), testPassword, ErrNotAKey, `"PRIVATE KEY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrivate(tt.key, []byte(tt.password))
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestParsePublicErrors(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		msg  string
	}{
		{"not PEM", []byte("ssh-ed25519 AAAA"), "no PEM block"},
		{"private key given", testPair.Private, "this is a private key"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), `"CERTIFICATE"`},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}), "not a cosign key"},
		{"two keys", append(append([]byte{}, testPair.Public...), testPair.Public...), "more than one PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePublic(tt.key)
			if !errors.Is(err, ErrNotAKey) {
				t.Fatalf("error %v, want ErrNotAKey", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestLoadPrivateAsksPasswordOnlyForAKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.pub")
	if err := os.WriteFile(p, testPair.Public, 0o600); err != nil {
		t.Fatal(err)
	}
	asked := false
	_, err := LoadPrivate(p, func() ([]byte, error) { asked = true; return nil, nil })
	if !errors.Is(err, ErrNotAKey) || asked {
		t.Errorf("error %v, password asked %v; want ErrNotAKey without asking", err, asked)
	}
	if _, err := LoadPrivate(filepath.Join(dir, "missing.key"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteFilesRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "signing")
	keyPath, pubPath, err := WriteFiles(prefix, testPair)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", keyPath, fi.Mode().Perm())
	}
	other, _ := Generate([]byte("x"))
	if _, _, err := WriteFiles(prefix, other); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second write: %v, want a refusal", err)
	}
	got, _ := os.ReadFile(keyPath)
	if !bytes.Equal(got, testPair.Private) {
		t.Error("existing private key was changed")
	}
	// Only the .pub exists: the .key must not be written either.
	prefix2 := filepath.Join(dir, "half")
	if err := os.WriteFile(prefix2+".pub", []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteFiles(prefix2, other); err == nil {
		t.Fatal("wrote over an existing .pub")
	}
	if _, err := os.Stat(prefix2 + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a .key was left behind: %v", err)
	}
	_ = pubPath
}

func TestPasswordFromEnvironment(t *testing.T) {
	env := func(set bool, v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == PasswordEnv && set {
				return v, true
			}
			return "", false
		}
	}
	pw, err := Password(env(true, "s3cret"), os.Stderr, true)()
	if err != nil || string(pw) != "s3cret" {
		t.Errorf("got %q, %v", pw, err)
	}
	pw, err = Password(env(true, ""), os.Stderr, false)()
	if err != nil || pw == nil || len(pw) != 0 {
		t.Errorf("empty COSIGN_PASSWORD: got %q (nil %v), %v; want an empty, non-nil password", pw, pw == nil, err)
	}
}
