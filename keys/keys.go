package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// PEM block types of the key files.
const (
	PrivateKeyPEMType       = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType) // what cosign v2+ writes
	LegacyPrivateKeyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"                         // what cosign v1 wrote
	PublicKeyPEMType        = string(cryptoutils.PublicKeyPEMType)
)

// Reasons a key does not load; test with errors.Is.
var (
	// ErrWrongPassword: the key decrypts to garbage under this password. An
	// altered salt, nonce or ciphertext looks the same, by design of the cipher.
	ErrWrongPassword = errors.New("wrong password (or the encrypted key was altered)")
	// ErrKDFParameters: the scrypt parameters are not one of the sets cosign
	// writes; someone edited the key file (possibly to make loading it cost
	// gigabytes of memory), so it is refused before any key derivation.
	ErrKDFParameters = errors.New("key-encryption (scrypt) parameters are not ones cosign writes: the key file was altered")
	// ErrCorruptKey: the PEM block is a cosign private key, but its content is damaged.
	ErrCorruptKey = errors.New("encrypted private key is corrupted")
	// ErrNotAKey: the file holds no cosign-format key of the expected kind.
	ErrNotAKey = errors.New("not a cosign key")
)

// PassFunc returns the password of an encrypted private key.
type PassFunc func() ([]byte, error)

// Pair is a PEM-encoded key pair.
type Pair struct {
	Private []byte // ENCRYPTED SIGSTORE PRIVATE KEY
	Public  []byte // PUBLIC KEY
}

// Generate makes a new ECDSA P-256 key pair, the private key encrypted with
// password (which may be empty, as with cosign).
func Generate(password []byte) (*Pair, error) {
	if password == nil {
		password = []byte{} // nil would make cryptoutils write the key unencrypted
	}
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, fmt.Errorf("generate key pair: %w", err)
	}
	return &Pair{Private: priv, Public: pub}, nil
}

// ParsePrivate decrypts a cosign private key and returns a signer for it.
func ParsePrivate(data, password []byte) (signature.SignerVerifier, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrNotAKey)
	}
	switch block.Type {
	case PrivateKeyPEMType, LegacyPrivateKeyPEMType:
	case PublicKeyPEMType:
		return nil, fmt.Errorf("%w: this is a public key; signing needs the private key (the .key file)", ErrNotAKey)
	default:
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%w: PEM block %q is not a cosign-format (encrypted) key; convert it with cosign import-key-pair", ErrNotAKey, block.Type)
		}
		return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrNotAKey, block.Type, PrivateKeyPEMType)
	}
	if password == nil {
		password = []byte{} // nil would make cryptoutils skip decryption
	}
	// Re-encode the one block we checked, so trailing bytes never reach the parser.
	pk, err := cryptoutils.UnmarshalPEMToPrivateKey(pem.EncodeToMemory(block), cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		err = classify(err)
		if errors.Is(err, ErrWrongPassword) && len(password) == 0 {
			err = fmt.Errorf("%w: the password given is empty (%s set to \"\"?), and this key has one", err, PasswordEnv)
		}
		return nil, err
	}
	sv, err := signature.LoadDefaultSignerVerifier(pk, options.WithED25519ph())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptKey, err)
	}
	return sv, nil
}

// classify maps the untyped errors of go-securesystemslib/encrypted (as
// returned through cryptoutils) onto this package's errors. The table test
// pins each message, so a library change that rewords one fails loudly.
func classify(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unsupported scrypt parameters"):
		return ErrKDFParameters
	case strings.Contains(msg, "decryption failed"):
		return ErrWrongPassword
	default:
		return fmt.Errorf("%w: %v", ErrCorruptKey, err)
	}
}

// LoadPrivate reads and decrypts the private key at path, asking pass for
// the password.
func LoadPrivate(path string, pass PassFunc) (signature.SignerVerifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	if block, _ := pem.Decode(data); block == nil || (block.Type != PrivateKeyPEMType && block.Type != LegacyPrivateKeyPEMType) {
		// Say what is wrong before asking anyone for a password.
		_, err := ParsePrivate(data, nil)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	password, err := pass()
	if err != nil {
		return nil, fmt.Errorf("read password for %s: %w", path, err)
	}
	sv, err := ParsePrivate(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sv, nil
}

// ParsePublic parses a PEM public key as cosign writes it and returns a
// verifier for it.
func ParsePublic(data []byte) (signature.Verifier, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrNotAKey)
	}
	switch block.Type {
	case PublicKeyPEMType:
	case PrivateKeyPEMType, LegacyPrivateKeyPEMType:
		return nil, fmt.Errorf("%w: this is a private key; verification needs the public key (the .pub file)", ErrNotAKey)
	default:
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%w: this is an unencrypted private key (PEM block %q): keep it secret; verification needs the public key", ErrNotAKey, block.Type)
		}
		return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrNotAKey, block.Type, PublicKeyPEMType)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: more than one PEM block", ErrNotAKey)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pem.EncodeToMemory(block))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAKey, err)
	}
	//lint:ignore SA1019 goodkey.ValidatePubKey would link letsencrypt/boulder; this one checks the curve, all we need
	if err := cryptoutils.ValidatePubKey(pub); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAKey, err)
	}
	v, err := signature.LoadDefaultVerifier(pub, options.WithED25519ph())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAKey, err)
	}
	return v, nil
}

// LoadPublic reads the public key at path.
func LoadPublic(path string) (signature.Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	v, err := ParsePublic(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ID names a public key: "sha256:" and the hex SHA-256 of its DER
// SubjectPublicKeyInfo. Bundle signatures carry it as their key id.
func ID(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// IsP256 reports whether pub is an ECDSA P-256 key, the one kind ES256
// (OPA bundle signatures) can use.
func IsP256(pub crypto.PublicKey) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == elliptic.P256()
}

// Describe names a public key's kind for messages: "ECDSA P-256", "ECDSA
// P-384", "RSA 2048-bit", "Ed25519".
func Describe(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
