// Package promtest reads samples out of a Prometheus text exposition
// (a /metrics body) for tests.
package promtest

import (
	"regexp"
	"strconv"
)

// Sample is the value of the line `sample value` in body (sample with its
// labels as exposed, e.g. `charter_overrides_ignored{reason="expired"}`),
// or -1 when no such line is there.
func Sample(body, sample string) (float64, error) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1, nil
	}
	return strconv.ParseFloat(m[1], 64)
}
