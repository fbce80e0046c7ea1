package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigkeys "github.com/charter-dev/charter/keys"
)

func TestKeysGenerate(t *testing.T) {
	t.Setenv(sigkeys.PasswordEnv, "pw")
	prefix := filepath.Join(t.TempDir(), "release")
	code, _, stderr := run(t, "", "keys", "generate", "--out", prefix)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := sigkeys.LoadPrivate(prefix+".key", func() ([]byte, error) { return []byte("pw"), nil }); err != nil {
		t.Errorf("generated key does not load: %v", err)
	}
	if _, err := sigkeys.LoadPublic(prefix + ".pub"); err != nil {
		t.Errorf("generated public key does not load: %v", err)
	}
	before, _ := os.ReadFile(prefix + ".key")
	code, _, stderr = run(t, "", "keys", "generate", "--out", prefix)
	if code != 2 || !strings.Contains(stderr, "already exists; refusing to overwrite") {
		t.Errorf("second generate: exit %d, %q; want 2 and a refusal", code, stderr)
	}
	after, _ := os.ReadFile(prefix + ".key")
	if string(before) != string(after) {
		t.Error("existing key was overwritten")
	}
}
