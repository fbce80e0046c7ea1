package promtest

import "testing"

func TestSample(t *testing.T) {
	body := "# HELP x y\ncharter_overrides_active 2\ncharter_overrides_ignored{reason=\"expired\"} 1\ncharter_overrides_ignored{reason=\"conflict\"} 0\nbad NaN-ish\n"
	for _, tc := range []struct {
		sample string
		want   float64
		err    bool
	}{
		{"charter_overrides_active", 2, false},
		{`charter_overrides_ignored{reason="expired"}`, 1, false},
		{`charter_overrides_ignored{reason="conflict"}`, 0, false},
		{"charter_overrides", -1, false}, // a prefix is not a sample
		{"absent_total", -1, false},
		{"bad", 0, true},
	} {
		got, err := Sample(body, tc.sample)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tc.sample, got, err, tc.want, tc.err)
		}
	}
}
