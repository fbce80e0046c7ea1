package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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
	e, err := Compile(rules, nil)
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
	}, nil)
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
	}}}, nil)
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
	_, err := Compile([]Rule{{Article: "X", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{"sh"}}}}}, nil)
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

func TestCompileIdentitiesAndAllowLists(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bash")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	own, err := OwnRoot()
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compile([]Rule{
		{Article: "D", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{link, dir + "/missing", dir + "/"}, DenyFileless: true}, Action: "deny"}},
		{Article: "A1", Runtime: charter.Runtime{Exec: &charter.ExecRule{Allow: []string{bin}},
			Connect: &charter.ConnectRule{Allow: []string{"10.0.0.0/8", "10.1.0.0/16:443"}}, Action: "deny"}},
		{Article: "A2", Runtime: charter.Runtime{Exec: &charter.ExecRule{Allow: []string{link}},
			Connect: &charter.ConnectRule{Allow: []string{"10.1.2.0/24:443"}}, Action: "audit"}},
	}, []Root{own})
	if err != nil {
		t.Fatal(err)
	}
	id, err := own.Resolve(bin)
	if err != nil {
		t.Fatal(err)
	}
	key := charterIdent{Ino: id.Ino, Dev: id.Dev}
	// The symlink is followed: the deny identity is the file's.
	if got := e.ExecDenyIdent[key]; got != (charterRuleRef{Rule: 1, Action: actionDeny}) || len(e.ExecDenyIdent) != 1 {
		t.Errorf("deny identities %v, want only %v -> rule 1", e.ExecDenyIdent, id)
	}
	if got := e.ExecAllowIdent[key]; got != 0b11 {
		t.Errorf("allow mask of %v = %b, want both allow-list articles", id, got)
	}
	if got := e.SameFile[id]; len(got) != 2 || got[0] != link || got[1] != bin {
		t.Errorf("SameFile[%v] = %v, want [%s %s]", id, got, link, bin)
	}
	if e.Policy.Fileless != (charterRuleRef{Rule: 1, Action: actionDeny}) {
		t.Errorf("fileless rule %+v", e.Policy.Fileless)
	}
	if e.Policy.ExecAllowMask != 0b11 || e.Policy.ExecAllow[0].Rule != 2 || e.Policy.ExecAllow[1] != (charterRuleRef{Rule: 3, Action: actionAudit}) {
		t.Errorf("exec allow policy: mask %b refs %+v", e.Policy.ExecAllowMask, e.Policy.ExecAllow[:2])
	}
	if e.MntNS[own.MntNS] != 1 {
		t.Errorf("own mount namespace %d not marked resolved", own.MntNS)
	}
	// A longer allowed prefix carries the bits of the shorter ones that contain it.
	narrow := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("10.1.2.0/24"), Port: 443})
	mid := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Port: 443})
	wide := NetKey(charter.NetTarget{Prefix: netip.MustParsePrefix("10.0.0.0/8")})
	if e.NetAllowPort[narrow] != 0b11 || e.NetAllowPort[mid] != 0b01 || e.NetAllowAny[wide] != 0b01 {
		t.Errorf("net allow masks: narrow %b mid %b wide %b", e.NetAllowPort[narrow], e.NetAllowPort[mid], e.NetAllowAny[wide])
	}
}

func TestCompileTooManyAllowLists(t *testing.T) {
	var rules []Rule
	for i := range maxAllow + 1 {
		rules = append(rules, Rule{Article: fmt.Sprint("A", i), Runtime: charter.Runtime{Exec: &charter.ExecRule{Allow: []string{"/app"}}}})
	}
	if _, err := Compile(rules, nil); err == nil || !strings.Contains(err.Error(), "more than 32 allow-list articles") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveStaysInRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An absolute symlink inside a container root points into that root, never the host's.
	if err := os.Symlink("/usr/bin/env", filepath.Join(root, "bin", "env")); err != nil {
		t.Fatal(err)
	}
	r := Root{Dir: root}
	if id, err := r.Resolve("/bin/env"); err == nil {
		t.Fatalf("resolved /bin/env to the host's /usr/bin/env (%v)", id)
	}
	if _, err := r.Resolve("/bin"); !errors.Is(err, errNotFile) {
		t.Fatalf("a directory: err = %v, want errNotFile", err)
	}
}
