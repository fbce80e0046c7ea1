package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/charter-dev/charter/internal/manifest"
	"github.com/spf13/cobra"
)

type reviewOptions struct {
	Server    string
	CA        string
	Operation string
	User      string
	DryRun    bool
}

// newWebhookReviewCommand sends manifests to a running webhook as
// AdmissionReviews, as the API server would, and prints its answers.
func newWebhookReviewCommand() *cobra.Command {
	o := &reviewOptions{}
	cmd := &cobra.Command{
		Use:   "review --server URL --ca FILE PATH...|-",
		Short: "Send manifests to a webhook as AdmissionReviews over TLS and print the decisions",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.Operation {
			case "CREATE", "UPDATE", "DELETE", "CONNECT":
			default:
				return badInput(fmt.Errorf("--operation %q: use CREATE, UPDATE, DELETE or CONNECT", o.Operation))
			}
			client, err := o.client()
			if err != nil {
				return badInput(err)
			}
			docs, readErr := manifest.Read(args, cmd.InOrStdin())
			denied := false
			for _, d := range docs {
				resp, err := o.send(client, d)
				if err != nil {
					return err
				}
				denied = printReview(cmd.OutOrStdout(), d, resp) || denied
			}
			if readErr != nil {
				return badInput(readErr)
			}
			if denied {
				return violation(nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Server, "server", "https://127.0.0.1:8443/validate", "the webhook's /validate URL")
	cmd.Flags().StringVar(&o.CA, "ca", "", "CA certificate that signed the webhook's serving certificate (PEM)")
	cmd.Flags().StringVar(&o.Operation, "operation", "CREATE", "admission operation: CREATE, UPDATE or DELETE")
	cmd.Flags().StringVar(&o.User, "user", "charter-review", "userInfo.username of the requests")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "mark the requests dryRun")
	return cmd
}

func (o *reviewOptions) client() (*http.Client, error) {
	if o.CA == "" {
		return nil, errors.New("--ca is required: the webhook is served over TLS")
	}
	pem, err := os.ReadFile(o.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.CA)
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}, nil
}

// reviewResponse is the part of an AdmissionReview response printed here.
type reviewResponse struct {
	UID     string `json:"uid"`
	Allowed bool   `json:"allowed"`
	Status  *struct {
		Code    int
		Message string
	}
	Warnings         []string          `json:"warnings"`
	AuditAnnotations map[string]string `json:"auditAnnotations"`
}

func (o *reviewOptions) send(client *http.Client, d manifest.Doc) (*reviewResponse, error) {
	review := d.Object
	if d.Object["kind"] != "AdmissionReview" {
		review = admissionReview(d, o.Operation, o.User, o.DryRun)
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, err
	}
	resp, err := client.Post(o.Server, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("send %s#%d: %w", d.File, d.Index, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s#%d: webhook answered %s: %s", d.File, d.Index, resp.Status, strings.TrimSpace(string(data)))
	}
	var out struct {
		Response *reviewResponse `json:"response"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Response == nil {
		return nil, fmt.Errorf("%s#%d: not an AdmissionReview response: %s", d.File, d.Index, data)
	}
	// The API server drops a response whose uid is not the request's.
	if req, _ := review["request"].(map[string]any); req != nil && req["uid"] != out.Response.UID {
		return nil, fmt.Errorf("%s#%d: response uid %q does not match request uid %v", d.File, d.Index, out.Response.UID, req["uid"])
	}
	return out.Response, nil
}

// admissionReview wraps an object the way the API server does.
func admissionReview(d manifest.Doc, op, user string, dryRun bool) map[string]any {
	group, version, _ := strings.Cut(d.APIVersion(), "/")
	if version == "" {
		group, version = "", group
	}
	uid := make([]byte, 16)
	_, _ = rand.Read(uid)
	kind := map[string]any{"group": group, "version": version, "kind": d.Kind()}
	req := map[string]any{
		"uid": hex.EncodeToString(uid), "kind": kind, "requestKind": kind,
		"resource": map[string]any{"group": group, "version": version, "resource": strings.ToLower(d.Kind()) + "s"},
		"name":     d.Name(), "namespace": d.Namespace(), "operation": op,
		"userInfo": map[string]any{"username": user}, "dryRun": dryRun,
	}
	if op == "DELETE" {
		req["oldObject"] = d.Object
	} else {
		req["object"] = d.Object
	}
	return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}
}

// printReview prints one answer and reports whether it denied.
func printReview(w io.Writer, d manifest.Doc, r *reviewResponse) bool {
	name := d.Name()
	if d.Namespace() != "" {
		name = d.Namespace() + "/" + name
	}
	verdict := "ALLOWED"
	if !r.Allowed {
		verdict = "DENIED "
	}
	fmt.Fprintf(w, "%s %s %s (%s#%d, uid %s)\n", verdict, d.Kind(), name, d.File, d.Index, r.UID)
	if r.Status != nil && r.Status.Message != "" {
		fmt.Fprintf(w, "    %d: %s\n", r.Status.Code, strings.ReplaceAll(r.Status.Message, "\n", "\n    "))
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "    warning: %s\n", warning)
	}
	keys := make([]string, 0, len(r.AuditAnnotations))
	for k := range r.AuditAnnotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "    audit %s: %s\n", k, r.AuditAnnotations[k])
	}
	return !r.Allowed
}
