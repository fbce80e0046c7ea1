package keys

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// PasswordEnv is the variable cosign reads a key's password from.
const PasswordEnv = "COSIGN_PASSWORD"

// ErrNoPassword: no COSIGN_PASSWORD and no terminal to ask on.
var ErrNoPassword = errors.New("no password: set " + PasswordEnv + " or run on a terminal")

// Password returns the way cosign gets a password: COSIGN_PASSWORD when it is
// set (even to the empty string), else a prompt on the terminal (/dev/tty),
// asked twice when confirm is set (for a new key). A password is never a
// command-line argument. getenv is os.LookupEnv outside tests.
func Password(getenv func(string) (string, bool), prompt io.Writer, confirm bool) PassFunc {
	return func() ([]byte, error) {
		if pw, ok := getenv(PasswordEnv); ok {
			return []byte(pw), nil
		}
		tty, err := os.Open("/dev/tty")
		if err != nil {
			return nil, ErrNoPassword
		}
		defer tty.Close()
		fd := int(tty.Fd())
		if !term.IsTerminal(fd) {
			return nil, ErrNoPassword
		}
		read := func(label string) ([]byte, error) {
			fmt.Fprint(prompt, label)
			pw, err := term.ReadPassword(fd)
			fmt.Fprintln(prompt)
			return pw, err
		}
		pw, err := read("Enter password for private key: ")
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		if confirm {
			again, err := read("Enter password for private key again: ")
			if err != nil {
				return nil, fmt.Errorf("read password: %w", err)
			}
			if !bytes.Equal(pw, again) {
				return nil, errors.New("passwords do not match")
			}
		}
		if pw == nil {
			pw = []byte{}
		}
		return pw, nil
	}
}
