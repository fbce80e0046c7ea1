package cli

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/charter-dev/charter/council"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// addCouncilCommands adds `charter council split` and `charter override
// sign` (Shamir custody). The override command is shared with request,
// approve, verify and status: sign joins it when it exists, else it is made
// here, so the registration order in root.go is the only contract.
func addCouncilCommands(root *cobra.Command) {
	cmd := &cobra.Command{Use: "council", Short: "Keep a council signing key in Shamir custody"}
	cmd.AddCommand(newCouncilSplitCommand())
	root.AddCommand(cmd)
	var override *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "override" {
			override = c
		}
	}
	if override == nil {
		override = &cobra.Command{Use: "override", Short: "Request, approve, sign and check council overrides"}
		root.AddCommand(override)
	}
	override.AddCommand(newOverrideSignCommand())
}

type councilSplitOptions struct {
	Shares    int
	Threshold int
	Out       string
	Name      string
}

func (o *councilSplitOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Shares, "shares", 0, "number of share files to make (n, 2 to 255)")
	fs.IntVar(&o.Threshold, "threshold", 0, "number of shares that rebuild the key (k, 2 to n)")
	fs.StringVar(&o.Out, "out", "", "directory for NAME.pub and the share files (made if missing)")
	fs.StringVar(&o.Name, "name", "council", "file name prefix: NAME.pub, NAME.share-I-of-N.json")
}

func newCouncilSplitCommand() *cobra.Command {
	o := &councilSplitOptions{}
	cmd := &cobra.Command{
		Use:   "split --shares N --threshold K --out DIR",
		Short: "Make a council signing key and split it into N share files, any K of which sign (the key itself is never written)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Out == "" {
				return badInput(errors.New("--out DIR is required"))
			}
			if o.Name == "" || filepath.Base(o.Name) != o.Name {
				return badInput(fmt.Errorf("--name %q must be a plain file name", o.Name))
			}
			custody, err := council.Split(o.Shares, o.Threshold)
			if err != nil {
				return badInput(err)
			}
			files := map[string][]byte{filepath.Join(o.Out, o.Name+".pub"): custody.PublicKey}
			order := []string{filepath.Join(o.Out, o.Name+".pub")}
			for _, s := range custody.Shares {
				data, err := s.Marshal()
				if err != nil {
					return err
				}
				p := filepath.Join(o.Out, fmt.Sprintf("%s.share-%d-of-%d.json", o.Name, s.Index, s.Shares))
				files[p], order = data, append(order, p)
			}
			if err := writeNewFiles(o.Out, order, files); err != nil {
				return badInput(err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "council key %s, split %s: any %d of %d shares sign\n", custody.KeyID, custody.Split, o.Threshold, o.Shares)
			fmt.Fprintf(w, "public key: %s (list it in the charter's spec.council.keys)\n", order[0])
			for _, p := range order[1:] {
				fmt.Fprintf(w, "share: %s (give to one custodian)\n", p)
			}
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// writeNewFiles creates dir if missing and each file exclusively: the
// public key 0644, shares 0600. On a failure it removes the files it made,
// never one that was there before.
func writeNewFiles(dir string, order []string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	for _, p := range order {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; refusing to overwrite it", p)
		}
	}
	var made []string
	for i, p := range order {
		mode := os.FileMode(0o600)
		if i == 0 {
			mode = 0o644
		}
		if err := writeExclusive(p, files[p], mode); err != nil {
			for _, m := range made {
				os.Remove(m)
			}
			return err
		}
		made = append(made, p)
	}
	return nil
}

func writeExclusive(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path) // made just above, exclusively
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

type overrideSignOptions struct {
	Shares    []string
	PublicKey string
}

func (o *overrideSignOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Shares, "share", nil, "council share file; repeat for at least the split's threshold")
	fs.StringVar(&o.PublicKey, "public-key", "", "council public key (NAME.pub) the shares must rebuild; default: the key the shares name")
}

func newOverrideSignCommand() *cobra.Command {
	o := &overrideSignOptions{}
	cmd := &cobra.Command{
		Use:   "sign --share F --share F... [--public-key PUB] FILE",
		Short: "Rebuild a council key from Shamir shares, check it, and add its approval to the override FILE in place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			doc, err := readOverride(file)
			if err != nil {
				return badInput(err)
			}
			shares, err := readShares(o.Shares)
			if err != nil {
				return badInput(err)
			}
			var want crypto.PublicKey
			if o.PublicKey != "" {
				v, err := sigkeys.LoadPublic(o.PublicKey)
				if err != nil {
					return badInput(err)
				}
				if want, err = v.PublicKey(); err != nil {
					return badInput(err)
				}
			}
			key, err := council.Combine(shares, want)
			if err != nil {
				return badInput(err)
			}
			err = signWith(doc, key)
			key.Wipe()
			if err != nil {
				return badInput(err)
			}
			out, err := doc.Marshal()
			if err != nil {
				return err
			}
			if err := replaceFile(file, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: approved by council key %s (rebuilt from %d shares, then wiped); %d signatures\n", file, key.ID(), len(shares), len(doc.Signatures))
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func signWith(doc *overrides.Document, key *council.Key) error {
	signer, err := key.Signer()
	if err != nil {
		return err
	}
	return overrides.Sign(doc, signer)
}

func readOverride(path string) (*overrides.Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := overrides.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// readShares parses and authenticates every share file, naming the first
// bad one, before anything is combined.
func readShares(paths []string) ([]*council.Share, error) {
	if len(paths) == 0 {
		return nil, errors.New("no --share given: name at least the split's threshold of share files")
	}
	var out []*council.Share
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		s, err := council.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		s.Source = p
		out = append(out, s)
	}
	return out, nil
}

// replaceFile writes data to path atomically (a temporary file in the same
// directory, renamed over it), keeping path's mode: a crash leaves the old
// document or the new one, never half of one.
func replaceFile(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(st.Mode().Perm())
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name) // ours: the temporary file
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
