package agent

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
)

func keyString(k charterPathKey) string {
	var b strings.Builder
	for _, c := range k.Path[:k.Prefixlen/8] {
		if c == 0 {
			b.WriteString(`\0`)
			continue
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func TestCompilePaths(t *testing.T) {
	rules := []Rule{
		{Article: "AD-020", Runtime: charter.Runtime{
			Exec:   &charter.ExecRule{Deny: []string{"/bin/sh", "/usr/local/bin/"}},
			Open:   &charter.OpenRule{DenyWrite: []string{"/etc/"}, DenyRead: []string{"/etc/shadow"}},
			Action: "deny",
		}},
		{Article: "AD-021", Runtime: charter.Runtime{
			Exec:   &charter.ExecRule{Deny: []string{"/bin/sh", "/usr/bin/nc"}},
			Action: "audit",
		}},
	}
	e, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]charterRuleRef{}
	for k, v := range e.Exec {
		got[keyString(k)] = v
	}
	want := map[string]charterRuleRef{
		`/bin/sh\0`:       {Rule: 1, Action: actionDeny},
		`/bin/sh/`:        {Rule: 1, Action: actionDeny},
		`/usr/local/bin/`: {Rule: 1, Action: actionDeny},
		`/usr/bin/nc\0`:   {Rule: 2, Action: actionAudit},
		`/usr/bin/nc/`:    {Rule: 2, Action: actionAudit},
	}
	if len(got) != len(want) {
		t.Errorf("exec entries: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exec[%s] = %+v, want %+v", k, got[k], v)
		}
	}
	if len(e.OpenWrite) != 1 || len(e.OpenRead) != 2 {
		t.Errorf("open entries: write %d read %d, want 1 and 2", len(e.OpenWrite), len(e.OpenRead))
	}
	if k := PathKey("/etc/", false); e.OpenWrite[k] != (charterRuleRef{Rule: 1, Action: actionDeny}) || k.Prefixlen != 40 {
		t.Errorf("open write /etc/: %+v prefixlen %d", e.OpenWrite[k], k.Prefixlen)
	}
}

func TestCompileDenyBeatsAudit(t *testing.T) {
	e, err := Compile([]Rule{
		{Article: "A", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{"/bin/sh"}}, Action: "audit"}},
		{Article: "B", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{"/bin/sh"}}, Action: "deny"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Exec[PathKey("/bin/sh", true)]; got != (charterRuleRef{Rule: 2, Action: actionDeny}) {
		t.Errorf("got %+v, want rule 2 deny", got)
	}
}

func TestCompileNet(t *testing.T) {
	e, err := Compile([]Rule{{Article: "AD-020", Runtime: charter.Runtime{
		Connect: &charter.ConnectRule{Deny: []string{"169.254.169.254/32", "10.0.0.0/8:443", "[fd00::/8]:53"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.NetAny) != 1 || len(e.NetPort) != 2 {
		t.Fatalf("net entries: any %d port %d, want 1 and 2", len(e.NetAny), len(e.NetPort))
	}
	meta := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("169.254.169.254/32")})
	if meta.Prefixlen != 16+128 || meta.Port != 0 || meta.Addr[10] != 0xff || meta.Addr[12] != 169 {
		t.Errorf("metadata key: %+v", meta)
	}
	ten := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Port: 443})
	if ten.Prefixlen != 16+96+8 || ten.Port != 0xbb01 {
		t.Errorf("10/8:443 key: prefixlen %d port %#x", ten.Prefixlen, ten.Port)
	}
	if _, ok := e.NetPort[ten]; !ok {
		t.Errorf("10/8:443 missing from %v", e.NetPort)
	}
	v6 := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("fd00::/8"), Port: 53})
	if v6.Prefixlen != 16+8 || v6.Addr[0] != 0xfd {
		t.Errorf("fd00::/8:53 key: %+v", v6)
	}
}

func TestCompileRejectsRelativePath(t *testing.T) {
	_, err := Compile([]Rule{{Article: "X", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{"sh"}}}}})
	if err == nil || !strings.Contains(err.Error(), "rule X") {
		t.Errorf("err = %v, want an error naming rule X", err)
	}
}

func TestRulesFromBundleData(t *testing.T) {
	rt := charter.Runtime{Exec: &charter.ExecRule{Deny: []string{"/bin/sh"}}, Action: "deny"}
	raw, _ := json.Marshal(map[string]any{"charter": map[string]any{"info": map[string]any{
		"runtime": []any{map[string]any{"article": "AD-020", "title": "No shells", "severity": "high", "runtime": rt}},
	}}})
	rules, err := RulesFromBundleData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Article != "AD-020" || rules[0].Runtime.Exec.Deny[0] != "/bin/sh" {
		t.Errorf("rules = %+v", rules)
	}
	if _, err := RulesFromBundleData([]byte(`{"charter":{"info":{"runtime":[{"title":"x"}]}}}`)); err == nil {
		t.Error("rule without article id accepted")
	}
	if rules, err := RulesFromBundleData([]byte(`{"other":1}`)); err != nil || len(rules) != 0 {
		t.Errorf("bundle without runtime rules: %v, %v", rules, err)
	}
}

func TestRulesFromCharter(t *testing.T) {
	c, err := charter.Parse("c.yaml", []byte(`apiVersion: charter.dev/v1
kind: Charter
metadata: {name: t, version: 1.0.0}
spec:
  articles:
  - id: AD-020
    title: No shells
    severity: high
    runtime:
      exec: {deny: [/bin/sh]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rules := RulesFromCharter(c)
	if len(rules) != 1 || rules[0].Article != "AD-020" || rules[0].Runtime.Action != "deny" {
		t.Errorf("rules = %+v", rules)
	}
}
