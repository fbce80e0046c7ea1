package kinds

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzCheck: any kind, against any declared custom kind, is either valid
// or explained by a message that names it; never a panic.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Pod", "Pods", "cronjob", "batch/*/CronJob", "Pod/exec", "pods/eviction", "y", "", "/", "a/b/c/d", "Rollout"} {
		f.Add(s, "Rollout", "argoproj.io")
	}
	f.Add("y", "y", "a.io")
	f.Fuzz(func(t *testing.T, kind, customKind, group string) {
		custom := []Custom{{Group: group, Version: "v1", Kind: customKind, Namespaced: true}}
		msg := Check(kind, custom)
		valid := kind == "*" || Builtin(kind) || kind == customKind
		if valid != (msg == "") {
			t.Fatalf("Check(%q) = %q; valid %v", kind, msg, valid)
		}
		if msg != "" && !strings.Contains(msg, strconv.Quote(kind)) {
			t.Fatalf("Check(%q) = %q does not name the kind", kind, msg)
		}
	})
}
