package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/atomicfile"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides"
	"github.com/spf13/cobra"
)

func newOverrideCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "override",
		Short: "Request, approve and check council overrides: scoped, expiring exceptions k custodians signed",
	}
	cmd.AddCommand(newOverrideRequestCommand(), newOverrideApproveCommand(), newOverrideVerifyCommand(), newOverrideStatusCommand())
	return cmd
}

type overrideRequestOptions struct {
	policyOptions
	ID, Namespace, Kind, Name, Reason, Requester, Out string
	Articles                                          []string
	Expires                                           time.Duration
	NotBefore                                         string
	LabelSelector                                     map[string]string
}

func (o *overrideRequestOptions) AddFlags(cmd *cobra.Command) {
	o.policyOptions.AddFlags(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&o.Articles, "article", nil, "article id the override lifts (repeatable)")
	fs.StringVar(&o.Namespace, "namespace", "", "the one namespace it covers")
	fs.StringVar(&o.Kind, "kind", "", "the one kind it covers (Pod, Deployment, ...)")
	fs.StringVar(&o.Name, "name", "", "object names it covers: a name, or a glob with * and ?")
	fs.StringToStringVar(&o.LabelSelector, "label", nil, "only objects carrying this label (key=value, repeatable)")
	fs.DurationVar(&o.Expires, "expires", 0, "how long it lasts from --not-before (e.g. 30m, 8h); at most the council's maxLifetime")
	fs.StringVar(&o.NotBefore, "not-before", "", "when it starts (RFC 3339; default now)")
	fs.StringVar(&o.Reason, "reason", "", "why it is needed (an incident, a ticket)")
	fs.StringVar(&o.Requester, "requester", "", "who asks for it (default $USER)")
	fs.StringVar(&o.ID, "id", "", "override id (default: derived from the first article and namespace, with a random suffix)")
	fs.StringVarP(&o.Out, "output", "o", "", "file to write the request to (never overwritten)")
}

func newOverrideRequestCommand() *cobra.Command {
	o := &overrideRequestOptions{}
	cmd := &cobra.Command{
		Use:   "request (--charter C | --bundle B) --article ID [--article ID...] --namespace NS --kind K --name GLOB --expires DURATION --reason TEXT -o FILE",
		Short: "Write an unsigned override request for the council to approve",
		Long: "Writes an Override document for the charter's council to sign with `charter override approve`.\n" +
			"It is checked against the charter first (articles, scope, lifetime), so a request that could never count is refused here.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Out == "" {
				return badInput(errors.New("give -o FILE for the request"))
			}
			if _, err := os.Lstat(o.Out); err == nil {
				return badInput(fmt.Errorf("%s already exists; refusing to overwrite it", o.Out))
			}
			if o.Expires <= 0 {
				return badInput(errors.New("give --expires DURATION (e.g. 30m): an override always expires"))
			}
			e, _, err := o.load(cmd.Context())
			if err != nil {
				return err
			}
			d, err := o.document(e.Bundle().Info.Name)
			if err != nil {
				return badInput(err)
			}
			// Every check but the signatures, now: a request that can never count is refused.
			v, err := overrides.NewVerifier(e.Bundle().Info)
			if err != nil {
				return badInput(err)
			}
			if _, err := v.Verify(d, d.Spec.NotBefore); err != nil {
				var f *overrides.Failure
				if errors.As(err, &f) && f.Check != overrides.CheckApprovals {
					return badInput(err)
				} else if !errors.As(err, &f) {
					return err
				}
			}
			data, err := d.Marshal()
			if err != nil {
				return err
			}
			if err := writeNewFile(o.Out, data); err != nil {
				return badInput(err)
			}
			k := v.Council().Threshold
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote override request %s to %s: %d of %d council members must approve it (charter override approve --key KEY %s)\n",
				d.ID(), o.Out, k, v.Council().Size(), o.Out)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// document builds the request from the flags.
func (o *overrideRequestOptions) document(charterName string) (*overrides.Document, error) {
	notBefore := time.Now().UTC().Truncate(time.Second)
	if o.NotBefore != "" {
		t, err := time.Parse(time.RFC3339, o.NotBefore)
		if err != nil {
			return nil, fmt.Errorf("--not-before %q is not an RFC 3339 time (e.g. 2026-12-01T12:00:00Z)", o.NotBefore)
		}
		notBefore = t.UTC()
	}
	requester := o.Requester
	if requester == "" {
		requester = os.Getenv("USER")
	}
	if u, err := user.Current(); requester == "" && err == nil {
		requester = u.Username
	}
	if requester == "" {
		return nil, errors.New("give --requester (no $USER or user name to default to)")
	}
	id := o.ID
	if id == "" && len(o.Articles) > 0 {
		suffix := make([]byte, 3)
		if _, err := rand.Read(suffix); err != nil {
			return nil, err
		}
		id = strings.ToLower(o.Articles[0]) + "-" + o.Namespace + "-" + hex.EncodeToString(suffix)
	}
	d := &overrides.Document{
		APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: id},
		Spec: overrides.Spec{
			Charter: charterName, Articles: o.Articles,
			Scope:  overrides.Scope{Namespace: o.Namespace, Kind: o.Kind, Name: o.Name},
			Reason: o.Reason, Requester: requester,
			NotBefore: notBefore, Expires: notBefore.Add(o.Expires),
		},
	}
	if len(o.LabelSelector) > 0 {
		d.Spec.Scope.LabelSelector = &overrides.LabelSelector{MatchLabels: o.LabelSelector}
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return d, nil
}

// writeNewFile creates path exclusively: a file that appeared meanwhile is
// never replaced.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path) // ours: created exclusively just above
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

type overrideApproveOptions struct{ Key string }

func (o *overrideApproveOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Key, "key", "", "the custodian's private key (cosign format; password from COSIGN_PASSWORD or a prompt)")
}

func newOverrideApproveCommand() *cobra.Command {
	o := &overrideApproveOptions{}
	cmd := &cobra.Command{
		Use:   "approve --key CUSTODIAN.key FILE",
		Short: "Add one custodian's signature to an override, in place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Key == "" {
				return badInput(errors.New("give --key CUSTODIAN.key"))
			}
			path := args[0]
			e := overrides.ReadFile(path)
			if e.Err != nil {
				return badInput(e.Err)
			}
			signer, err := sigkeys.LoadPrivate(o.Key, sigkeys.Password(os.LookupEnv, cmd.ErrOrStderr(), false))
			if err != nil {
				return badInput(err)
			}
			if err := overrides.Sign(e.Doc, signer); err != nil {
				return badInput(err)
			}
			data, err := e.Doc.Marshal()
			if err != nil {
				return err
			}
			fi, err := os.Stat(path)
			if err != nil {
				return badInput(err)
			}
			if err := atomicfile.Write(path, data, fi.Mode().Perm()); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			s := e.Doc.Signatures[len(e.Doc.Signatures)-1]
			fmt.Fprintf(cmd.ErrOrStderr(), "approved override %s with key %s: %d signature(s); check with charter override verify\n", e.Doc.ID(), s.KeyID, len(e.Doc.Signatures))
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func newOverrideVerifyCommand() *cobra.Command {
	o := &policyOptions{}
	cmd := &cobra.Command{
		Use:   "verify (--charter C | --bundle B) FILE",
		Short: "Check one override against a charter's council: exit 0 valid, 1 not (and why), 2 bad input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := loadVerifier(cmd, o)
			if err != nil {
				return err
			}
			e := overrides.ReadFile(args[0])
			if e.Err != nil {
				return badInput(fmt.Errorf("%s: %w", args[0], e.Err))
			}
			ok, err := v.Verify(e.Doc, time.Now())
			var f *overrides.Failure
			switch {
			case err == nil:
			case errors.As(err, &f):
				printSignatures(cmd.OutOrStdout(), f.Results)
				fmt.Fprintf(cmd.OutOrStdout(), "%s: NOT VALID: %v\n", args[0], err)
				return violation(nil)
			default:
				return badInput(err)
			}
			var names []string
			for _, id := range ok.Approvals {
				names = append(names, v.Council().KeyName(id))
			}
			exp := time.Unix(0, ok.ExpiresNs).UTC()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: override %s is valid: %d of %d valid approvals (%s); lifts %s for %s until %s (in %s)\n",
				args[0], ok.ID, len(ok.Approvals), v.Council().Threshold, strings.Join(names, ", "), strings.Join(ok.Articles, ", "),
				ok.Scope, exp.Format(time.RFC3339), time.Until(exp).Round(time.Second))
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func printSignatures(w io.Writer, results []overrides.SignatureResult) {
	for i, r := range results {
		who := r.KeyName
		if who == "" {
			who = r.KeyID
		}
		fmt.Fprintf(w, "  signature %d: %-11s %s\n", i+1, r.Status, who)
	}
}

// loadVerifier loads the policy of --charter/--bundle and its council.
func loadVerifier(cmd *cobra.Command, o *policyOptions) (*overrides.Verifier, error) {
	e, _, err := o.load(cmd.Context())
	if err != nil {
		return nil, err
	}
	v, err := overrides.NewVerifier(e.Bundle().Info)
	if err != nil {
		return nil, badInput(fmt.Errorf("the bundle's council: %w", err))
	}
	return v, nil
}

func newOverrideStatusCommand() *cobra.Command {
	o := &policyOptions{}
	cmd := &cobra.Command{
		Use:   "status (--charter C | --bundle B) DIR",
		Short: "List every override in DIR: its approvals, validity window and state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := loadVerifier(cmd, o)
			if err != nil {
				return err
			}
			entries, err := overrides.ReadDir(args[0])
			if err != nil {
				return badInput(err)
			}
			now := time.Now()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tAPPROVALS\tNOT BEFORE\tEXPIRES\tARTICLES\tSCOPE\tFILE")
			for _, e := range entries {
				fmt.Fprintln(tw, statusRow(v, e, now))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(entries) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no override files (.yaml, .yml, .json) in %s\n", args[0])
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func statusRow(v *overrides.Verifier, e overrides.Entry, now time.Time) string {
	if e.Err != nil {
		return fmt.Sprintf("-\tmalformed\t-\t-\t-\t-\t%v\t%s", e.Err, e.Source)
	}
	d := e.Doc
	state, approvals := "active", "-"
	ok, err := v.Verify(d, now)
	var f *overrides.Failure
	switch {
	case ok != nil:
		approvals = fmt.Sprintf("%d/%d", len(ok.Approvals), v.Council().Threshold)
	case errors.As(err, &f):
		state = string(f.Check)
		if f.Check == overrides.CheckApprovals {
			state = "awaiting-approval"
		}
		if f.Threshold > 0 {
			approvals = fmt.Sprintf("%d/%d", f.Approvals, f.Threshold)
		}
	default:
		state = "error: " + err.Error()
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", d.ID(), state, approvals,
		d.Spec.NotBefore.UTC().Format(time.RFC3339), d.Spec.Expires.UTC().Format(time.RFC3339),
		strings.Join(d.Spec.Articles, ","), d.Spec.Scope, e.Source)
}

// overridesOptions is --overrides on eval and webhook serve.
type overridesOptions struct{ Dir string }

func (o *overridesOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Dir, "overrides", "", "directory of Override documents: those the charter's council approved lift matching denials (the others are ignored and reported)")
}

// evalOverrides verifies the overrides of --overrides against e's charter,
// reports the ignored ones on w, and returns the verified set (nil without
// the flag).
func (o *overridesOptions) evalOverrides(w io.Writer, e *engine.Engine, now time.Time) (*engine.Overrides, error) {
	if o.Dir == "" {
		return nil, nil
	}
	entries, err := overrides.ReadDir(o.Dir)
	if err != nil {
		return nil, badInput(err)
	}
	v, err := overrides.NewVerifier(e.Bundle().Info)
	if err != nil {
		return nil, badInput(fmt.Errorf("the bundle's council: %w", err))
	}
	ev := overrides.Evaluate(v, entries, now)
	for _, i := range ev.Ignored {
		fmt.Fprintf(w, "charter: override ignored (%s): %s: %v\n", i.Check, i.Source, i.Err)
	}
	return engine.NewOverrides(ev.Set)
}
