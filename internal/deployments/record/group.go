package record

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

// groupTracker follows the instances of one environment group and says
// which status of the group's deployment their events call for: in_progress
// when the first one starts working, and one final status once every one
// has its result: success when all succeeded, failure when one failed on
// its host or was rolled back, else error; the description counts the
// results and names the first problem.
type groupTracker struct {
	goal     goal.Goal
	members  map[string]*tracker
	results  map[string]engine.State
	worst    deployments.State
	problems []string
	started  bool
}

func newGroupTracker(g goal.Goal, members []string) *groupTracker {
	t := &groupTracker{goal: g, members: map[string]*tracker{}, results: map[string]engine.State{}, worst: deployments.StateSuccess}
	for _, m := range members {
		t.members[m] = &tracker{goal: g}
	}
	return t
}

func (g *groupTracker) next(e engine.Event) (deployments.Status, bool, bool) {
	t := g.members[e.Instance]
	if t == nil {
		return deployments.Status{}, false, false
	}
	st, ok, final := t.next(e)
	switch {
	case !ok:
		return deployments.Status{}, false, false
	case !final:
		if g.started {
			return deployments.Status{}, false, false
		}
		g.started = true
		return status(deployments.StateInProgress, e.Instance+": "+st.Description), true, false
	}
	g.results[e.Instance] = e.State
	if st.State != deployments.StateSuccess {
		g.problems = append(g.problems, e.Instance+" "+st.Description)
		if g.worst != deployments.StateFailure {
			g.worst = st.State
		}
	}
	if len(g.results) < len(g.members) {
		return deployments.Status{}, false, false
	}
	return g.final(), true, true
}

// final is the group's final status.
func (g *groupTracker) final() deployments.Status {
	counts := map[engine.State]int{}
	for _, s := range g.results {
		counts[s]++
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	desc := fmt.Sprintf("%s of %d instances: %s", g.goal, len(g.results), strings.Join(parts, ", "))
	if len(g.problems) > 0 {
		slices.Sort(g.problems)
		desc += "; " + g.problems[0]
	}
	st := status(g.worst, desc)
	st.AutoInactive = g.worst == deployments.StateSuccess && g.goal.Replaces()
	return st
}
