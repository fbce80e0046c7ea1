package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/kinds"
	"github.com/spf13/cobra"
)

// explainOptions is eval's --explain.
type explainOptions struct {
	Explain bool
}

func (o *explainOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Explain, "explain", false, "print, for each object and article, why it fired, passed or was skipped (the condition that decided, with the values seen; the match check that failed); text only")
}

// runExplain is eval --explain: the engine's Explain of every object,
// printed as text; the exit code is eval's (1 when an object is denied).
func runExplain(ctx context.Context, cmd *cobra.Command, e *engine.Engine, ov *engine.Overrides, output string, args []string, namespace string) error {
	if output != "text" {
		return badInput(fmt.Errorf("--explain prints text; it does not go with --output %s", output))
	}
	sources, bad := manifest.Sources(args, cmd.InOrStdin())
	declared := e.Bundle().Info.DeclaredKinds()
	w := cmd.OutOrStdout()
	var objects, denied, skipped int
	for _, src := range sources {
		docs, errs := src.Docs()
		bad = append(bad, errs...)
		for _, d := range docs {
			obj := kinds.DefaultNamespace(d.Object, namespace, declared...)
			x, err := e.Explain(ctx, obj)
			if err != nil {
				return fmt.Errorf("%s#%d: %w", d.File, d.Index, err)
			}
			dec, err := e.DecideWith(ctx, obj, ov)
			if err != nil {
				return fmt.Errorf("%s#%d: %w", d.File, d.Index, err)
			}
			objects++
			mark := "PASS"
			switch {
			case !dec.Allowed:
				mark = "DENY"
				denied++
			case len(dec.All()) > 0:
				mark = "WARN"
			case !x.Applies():
				mark = "SKIP"
				skipped++
			}
			name := d.Name()
			if meta, ok := obj["metadata"].(map[string]any); ok {
				if ns, _ := meta["namespace"].(string); ns != "" {
					name = ns + "/" + name // as decided, defaulted or not
				}
			}
			fmt.Fprintf(w, "%s %s %s (%s#%d)\n", mark, d.Kind(), name, d.File, d.Index)
			writeExplanation(w, x, dec)
		}
	}
	if objects == 0 && len(bad) == 0 {
		return badInput(fmt.Errorf("no Kubernetes objects found in %s", strings.Join(args, ", ")))
	}
	fmt.Fprintf(w, "%d objects: %d allowed, %d denied, %d skipped (no article applies)\n", objects, objects-denied, denied, skipped)
	if len(bad) > 0 {
		return badInput(bad.Err())
	}
	if denied > 0 {
		return violation(nil)
	}
	return nil
}

// writeExplanation prints each article's verdict and why: fired and passed
// articles with the condition on each element, skipped ones with the match
// check that failed. A finding an override lifted says so.
func writeExplanation(w io.Writer, x engine.Explanation, dec engine.Decision) {
	lifted := map[string]string{}
	for _, f := range dec.Overridden {
		lifted[f.Article] = f.Override
	}
	for _, a := range x.Articles {
		verdict := map[engine.Verdict]string{engine.Fired: "FIRED", engine.Passed: "PASS ", engine.Skipped: "SKIP "}[a.Verdict]
		fmt.Fprintf(w, "    %s %s (%s) %s: %s\n", verdict, a.Article, a.Action, a.Title, a.Reason)
		for _, c := range a.Checks {
			at := c.At
			if at == "" {
				at = "the object"
			}
			fmt.Fprintf(w, "          at %s:\n", at)
			for _, line := range c.Trace {
				fmt.Fprintf(w, "            %s\n", line)
			}
		}
		for _, f := range a.Findings {
			suffix := ""
			if id := lifted[a.Article]; id != "" {
				suffix = " (allowed by override " + id + ")"
			}
			fmt.Fprintf(w, "          finding: %s at %s%s\n", f.Message, f.Path, suffix)
		}
	}
}
