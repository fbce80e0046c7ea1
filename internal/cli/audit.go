package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/charter-dev/charter/audit"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
)

// newAuditCommand is `charter audit`; each subcommand is one constructor
// below, so adding one (audit scan, ...) is one more AddCommand.
func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, prove and publish the tamper-evident decision log; scan what already runs",
	}
	cmd.AddCommand(newAuditVerifyCommand(), newAuditProveCommand(), newAuditCheckpointCommand(), newAuditScanCommand())
	return cmd
}

// auditFailure maps a verification failure to exit 1 and anything else
// (missing file, unreadable key) to exit 2.
func auditFailure(err error) error {
	if audit.IsFailure(err) {
		return violation(err)
	}
	return badInput(err)
}

type auditVerifyOptions struct {
	Key        string
	Checkpoint string
	Proof      string
	Record     int64 // with Proof: the record the proof must be about; -1 for any
}

func (o *auditVerifyOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Key, "key", "", "public key (PEM, e.g. cosign.pub) that must have signed every checkpoint")
	cmd.Flags().StringVar(&o.Checkpoint, "checkpoint", "", "an older published checkpoint: prove the log is an append-only extension of it")
	cmd.Flags().StringVar(&o.Proof, "proof", "", "check a proof from `charter audit prove` on its own, without the log")
	cmd.Flags().Int64Var(&o.Record, "record", -1, "with --proof: the record number the proof must be about (a valid proof of another record proves nothing about it)")
}

func (o *auditVerifyOptions) verifier() (note.Verifier, error) {
	if o.Key == "" {
		return nil, nil
	}
	return loadAuditVerifier(o.Key)
}

func newAuditVerifyCommand() *cobra.Command {
	o := &auditVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [--key PUB] [--checkpoint OLD] LOG | verify --proof FILE [--record N] [--key PUB]",
		Short: "Check every record against the Merkle tree and the signed checkpoints; name the first bad record",
		Long: "Detects modified, deleted, inserted, duplicated and reordered records and truncation,\n" +
			"naming the first bad record (number from 0, file, line, byte offset).\n" +
			"Exit codes: 0 verified, 1 tampered, 2 could not check.",
		Args: func(cmd *cobra.Command, args []string) error {
			if o.Proof != "" {
				return cobra.NoArgs(cmd, args)
			}
			if cmd.Flags().Changed("record") {
				return errors.New("--record goes with --proof")
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := o.verifier()
			if err != nil {
				return badInput(err)
			}
			out := cmd.OutOrStdout()
			if o.Proof != "" {
				return checkProofFile(out, o.Proof, v, o.Record)
			}
			var older []byte
			if o.Checkpoint != "" {
				if older, err = os.ReadFile(o.Checkpoint); err != nil {
					return badInput(err)
				}
			}
			r, err := audit.Verify(args[0], audit.VerifyOptions{Verifier: v, Older: older})
			if err != nil {
				return auditFailure(err)
			}
			printVerifyReport(out, args[0], r, v != nil)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func printVerifyReport(w io.Writer, path string, r *audit.Report, signed bool) {
	fmt.Fprintf(w, "%s: %d records in %d files verified against the Merkle tree\n", path, r.Records, r.Files)
	switch {
	case r.Latest == nil:
		fmt.Fprintln(w, "no checkpoint yet: nothing vouches for the records beyond the stored tree")
	case !r.Latest.Signed:
		fmt.Fprintf(w, "%d checkpoints match the tree; they are unsigned (the log has no --audit-key), so they guard against accidents, not forgery\n", r.Checkpoints)
	case signed:
		fmt.Fprintf(w, "%d checkpoints, all signed by the key; latest: %d records, root %s, %s\n",
			r.Checkpoints, r.Latest.Size, r.Latest.Hash, r.Latest.Time.Format("2006-01-02T15:04:05Z07:00"))
	default:
		fmt.Fprintf(w, "%d checkpoints match the tree (signatures not checked: no --key); latest: %d records, root %s\n",
			r.Checkpoints, r.Latest.Size, r.Latest.Hash)
	}
	if r.Unsealed > 0 {
		fmt.Fprintf(w, "%d records after the latest checkpoint are not yet covered by one\n", r.Unsealed)
	}
	if r.TornBytes > 0 {
		fmt.Fprintf(w, "an incomplete last record (%d bytes, left by a crash) is not part of the log; the next writer cuts it\n", r.TornBytes)
	}
	if r.Older != nil {
		fmt.Fprintf(w, "the log is an append-only extension of the older checkpoint (%d records)\n", r.Older.Size)
	}
}

func checkProofFile(w io.Writer, path string, v note.Verifier, record int64) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return badInput(err)
	}
	p, err := audit.CheckProof(data, v)
	if err != nil {
		return auditFailure(err)
	}
	if record >= 0 {
		if err := p.For(record); err != nil {
			return auditFailure(err)
		}
	}
	signed := "checkpoint signature not checked (no --key)"
	if v != nil {
		signed = "checkpoint signed by the key"
	}
	switch p.Kind {
	case "inclusion":
		fmt.Fprintf(w, "record %d is in the log (%s)\n%s\n", p.Index, signed, p.Record)
	default:
		fmt.Fprintf(w, "the newer checkpoint extends the older one (%s)\n", signed)
	}
	return nil
}

type auditProveOptions struct {
	Record     string
	Checkpoint string
	Out        string
}

func newAuditProveCommand() *cobra.Command {
	o := &auditProveOptions{}
	cmd := &cobra.Command{
		Use:   "prove LOG (--record N | --checkpoint OLD) [-o FILE]",
		Short: "Print a proof that record N is in the latest checkpoint, or that it extends an older one",
		Long: "The proof (JSON) holds the record, the signed checkpoint and the Merkle path;\n" +
			"`charter audit verify --proof FILE --key PUB` checks it without the log.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p *audit.Proof
			var err error
			switch {
			case (o.Record == "") == (o.Checkpoint == ""):
				return badInput(errors.New("give exactly one of --record or --checkpoint"))
			case o.Record != "":
				n, perr := strconv.ParseInt(o.Record, 10, 64)
				if perr != nil || n < 0 {
					return badInput(fmt.Errorf("--record %q: want a record number (0 is the first)", o.Record))
				}
				p, err = audit.ProveRecord(args[0], n)
			default:
				older, rerr := os.ReadFile(o.Checkpoint)
				if rerr != nil {
					return badInput(rerr)
				}
				p, err = audit.ProveExtension(args[0], older)
			}
			if err != nil {
				return auditFailure(err)
			}
			data, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				return err
			}
			return writeOutput(cmd.OutOrStdout(), o.Out, append(data, '\n'))
		},
	}
	cmd.Flags().StringVar(&o.Record, "record", "", "record number (0 is the first)")
	cmd.Flags().StringVar(&o.Checkpoint, "checkpoint", "", "older checkpoint to prove consistency with")
	cmd.Flags().StringVarP(&o.Out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

func newAuditCheckpointCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "checkpoint LOG [-o FILE]",
		Short: "Print the latest signed checkpoint, to publish it elsewhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, err := audit.LatestCheckpoint(args[0])
			if err != nil {
				return badInput(err)
			}
			return writeOutput(cmd.OutOrStdout(), out, msg)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

// writeOutput writes data to path, or to w when path is empty or "-". It
// refuses to replace an existing file it was not asked to create.
func writeOutput(w io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := w.Write(data)
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return badInput(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
