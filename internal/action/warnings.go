package action

import (
	"context"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// leftOut takes the inventory's warnings — machines the hive's discover
// sources found but left out — into the step summary, and makes each a
// warning annotation; deploy.Deploy writes them to the log too.
type leftOut struct {
	gha     *githubactions.Action
	summary *Summary
}

var _ deploy.PlanChecker = leftOut{}

// CheckPlan implements deploy.PlanChecker; it never refuses the plan.
func (l leftOut) CheckPlan(_ context.Context, inv *inventory.Inventory) error {
	l.summary.Warnings = inv.Warnings
	for _, w := range inv.Warnings {
		l.gha.WithFieldsMap(map[string]string{"title": "machine left out"}).Warningf("%s", w)
	}
	return nil
}

// Observe implements engine.Observer; the events do not concern it.
func (leftOut) Observe(context.Context, engine.Event) {}
