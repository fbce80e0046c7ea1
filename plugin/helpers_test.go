package plugin

import (
	"time"

	"github.com/charter-dev/charter/audit"
)

var fixedTime = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)

func auditBundle() audit.Bundle { return audit.Bundle{Revision: "r", Serial: 1} }
