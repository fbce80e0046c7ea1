package chartergen

import "sort"

// sortedKeys keeps generation deterministic for a seed: map order is random.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
