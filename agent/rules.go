package agent

import (
	"encoding/json"
	"fmt"

	"github.com/charter-dev/charter/charter"
)

// Rule is one article's runtime part, as the agent enforces it.
type Rule struct {
	Article  string          `json:"article"`
	Title    string          `json:"title"`
	Severity string          `json:"severity"`
	Runtime  charter.Runtime `json:"runtime"`
}

// RulesFromCharter collects the runtime rules of every article that has one,
// in article order.
func RulesFromCharter(c *charter.Charter) []Rule {
	var out []Rule
	for _, a := range c.Spec.Articles {
		if a.Runtime == nil {
			continue
		}
		out = append(out, Rule{Article: a.ID, Title: a.Title, Severity: a.Severity, Runtime: *a.Runtime})
	}
	return out
}

// RulesFromBundleData reads the runtime rules a compiled bundle carries in its
// data.json under data.charter.info.runtime. data is the whole data document.
// A bundle without runtime rules yields none.
func RulesFromBundleData(data []byte) ([]Rule, error) {
	var doc struct {
		Charter struct {
			Info struct {
				Runtime []Rule `json:"runtime"`
			} `json:"info"`
		} `json:"charter"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode bundle data: %w", err)
	}
	rules := doc.Charter.Info.Runtime
	for i, r := range rules {
		if r.Article == "" {
			return nil, fmt.Errorf("decode bundle data: runtime rule %d has no article id", i)
		}
	}
	return rules, nil
}
