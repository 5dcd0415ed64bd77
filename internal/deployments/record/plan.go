package record

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
)

// Mode is how a run's deployments are recorded.
type Mode string

// The modes. Auto records PerInstance when that fits GitHub's budget, else
// PerEnvironment, else nothing.
const (
	Auto           Mode = "auto"
	PerInstance    Mode = "per-instance"
	PerEnvironment Mode = "per-environment"
	None           Mode = "none"
)

// Costs of recording, in requests to GitHub.
const (
	// writesPerDeployment: create, in_progress, final state.
	writesPerDeployment = 3
	// retireReads and retireWrites bound retiring a production
	// environment's earlier deployment by hand (deployments.GitHub.Active
	// lists ten and reads each one's latest status; one is still active).
	retireReads, retireWrites = 11, 1
	// reserveRequests are kept for what else the run asks GitHub.
	reserveRequests = 5
	// findPages bounds the reads that look up unchanged instances'
	// deployments (100 deployments each).
	findPages = 3
)

// Decision is what the Observer records, and why.
type Decision struct {
	// Mode is PerInstance, PerEnvironment or None.
	Mode Mode
	// Deployments is how many deployments are recorded, Writes the most
	// writes they take.
	Deployments, Writes int
	// Message says what is recorded and, when Auto grouped or gave up, why;
	// for the log and the summary.
	Message string
	// Grouped is set when Auto recorded per environment for the budget.
	Grouped bool
}

// Decision returns what ObservePlan decided.
func (o *Observer) Decision() Decision {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.decision
}

// ObservePlan implements engine.PlanObserver: it looks up the deployments
// unchanged instances run (bounded reads), decides what to record within
// GitHub's budget, says so in the log, and starts a worker per deployment.
func (o *Observer) ObservePlan(ctx context.Context, p *engine.Plan) {
	if o.cfg.Limits != nil && o.cfg.Limits.Budget().Requests < 0 {
		if err := o.cfg.Limits.Refresh(ctx); err != nil {
			o.log(fmt.Sprintf("GitHub's rate limit is not known: %v", err))
		}
	}
	o.mu.Lock()
	var recorded, unchanged []string
	for _, n := range slices.Sorted(maps.Keys(p.Instances)) {
		if _, ok := o.requests[n]; !ok {
			continue
		}
		if p.Instances[n].Changed || o.cfg.RecordUnchanged {
			recorded = append(recorded, n)
		} else {
			unchanged = append(unchanged, n)
		}
	}
	o.mu.Unlock()
	found := o.findDeployed(ctx, p, unchanged)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.found = found
	o.planned = true
	perInstance := o.instanceRequests(recorded)
	groups := o.groupRequests(p, recorded)
	o.decision = decide(o.cfg.Mode, perInstance, groups, o.budget())
	o.log(o.decision.Message)
	switch o.decision.Mode {
	case PerInstance:
		for _, req := range perInstance {
			o.start(ctx, req.Instance, req, []string{req.Instance}, &tracker{goal: o.cfg.Goal})
		}
	case PerEnvironment:
		for _, req := range groups {
			members := make([]string, len(req.Members))
			for i, m := range req.Members {
				members[i] = m.Instance
			}
			o.start(ctx, req.Environment, req, members, newGroupTracker(o.cfg.Goal, members))
		}
	}
}

// findDeployed looks up, within a few reads, the deployment that put each
// unchanged instance's path there: its own, or its group's.
func (o *Observer) findDeployed(ctx context.Context, p *engine.Plan, unchanged []string) map[string]deployments.Found {
	pages := findPages
	if b := o.budget(); b.Requests >= 0 {
		pages = min(pages, max(b.Requests-reserveRequests, 0)/10)
	}
	if o.cfg.Finder == nil || len(unchanged) == 0 || pages == 0 {
		return map[string]deployments.Found{}
	}
	wanted := make([]deployments.Wanted, len(unchanged))
	o.mu.Lock()
	for i, n := range unchanged {
		wanted[i] = deployments.Wanted{Instance: n, Path: p.Instances[n].Path,
			Environments: []string{o.requests[n].Environment, p.Instances[n].Environment}}
	}
	o.mu.Unlock()
	found, err := o.cfg.Finder.Find(ctx, wanted, pages)
	if err != nil {
		o.warn(fmt.Sprintf("could not look up the deployments of the unchanged instances: %v", err))
	}
	o.log(fmt.Sprintf("%d unchanged instances get no new deployment; found the deployment %d of them run", len(unchanged), len(found)))
	return found
}

// instanceRequests are the deployments of each recorded instance; o.mu
// must be held.
func (o *Observer) instanceRequests(recorded []string) []deployments.Request {
	reqs := make([]deployments.Request, len(recorded))
	for i, n := range recorded {
		reqs[i] = o.requests[n]
	}
	return reqs
}

// groupRequests are the deployments of each environment group with a
// recorded instance, each listing every planned instance of the group;
// o.mu must be held.
func (o *Observer) groupRequests(p *engine.Plan, recorded []string) []deployments.Request {
	if o.cfg.Group == nil {
		return nil
	}
	envs := map[string]bool{}
	for _, n := range recorded {
		envs[p.Instances[n].Environment] = true
	}
	var reqs []deployments.Request
	for _, env := range slices.Sorted(maps.Keys(envs)) {
		req := o.cfg.Group(env)
		for _, n := range slices.Sorted(maps.Keys(o.requests)) {
			if pi, ok := p.Instances[n]; ok && pi.Environment == env {
				req.Members = append(req.Members, deployments.Member{Instance: n, System: pi.System, StorePath: pi.Path})
			}
		}
		reqs = append(reqs, req)
	}
	return reqs
}

// budget is GitHub's budget, or an unbounded one without Limits.
func (o *Observer) budget() deployments.Budget {
	if o.cfg.Limits == nil {
		return deployments.Budget{Writes: 1 << 30, Requests: -1}
	}
	return o.cfg.Limits.Budget()
}

// cost is the most writes and requests recording reqs takes.
func cost(reqs []deployments.Request) (writes, requests int) {
	for _, r := range reqs {
		writes += writesPerDeployment
		requests += writesPerDeployment
		if r.Production {
			writes += retireWrites
			requests += retireWrites + retireReads
		}
	}
	return writes, requests
}

// fits reports whether recording reqs fits the budget.
func fits(reqs []deployments.Request, b deployments.Budget) bool {
	w, r := cost(reqs)
	return w <= b.Writes && (b.Requests < 0 || r+reserveRequests <= b.Requests)
}

// decide chooses what to record: mode's choice, or for Auto one deployment
// per instance when it fits the budget, else one per environment group,
// else none.
func decide(mode Mode, perInstance, groups []deployments.Request, b deployments.Budget) Decision {
	record := func(m Mode, reqs []deployments.Request, why string) Decision {
		w, _ := cost(reqs)
		what := "a deployment for each changed instance"
		if m == PerEnvironment {
			what = "one deployment per environment (" + envNames(reqs) + ")"
		}
		return Decision{Mode: m, Deployments: len(reqs), Writes: w,
			Message: fmt.Sprintf("recording %s in GitHub: %d deployments, at most %d writes%s", what, len(reqs), w, why)}
	}
	switch {
	case len(perInstance) == 0:
		return Decision{Mode: PerInstance, Message: "every instance is unchanged: no deployment to record in GitHub"}
	case mode == PerInstance:
		return record(PerInstance, perInstance, "")
	case mode == PerEnvironment:
		return record(PerEnvironment, groups, "")
	case fits(perInstance, b):
		return record(PerInstance, perInstance, "")
	}
	w, r := cost(perInstance)
	left := fmt.Sprintf("%d writes", b.Writes)
	if b.Requests >= 0 {
		left += fmt.Sprintf(" and %d requests", b.Requests)
	}
	why := fmt.Sprintf("; one for each of the %d changed instances would take up to %d writes and %d requests, and GitHub allows %s more this hour",
		len(perInstance), w, r, left)
	if len(groups) > 0 && fits(groups, b) {
		d := record(PerEnvironment, groups, why)
		d.Grouped = true
		return d
	}
	return Decision{Mode: None, Message: "not recording deployments in GitHub" + why + ", too few even for one deployment per environment"}
}

func envNames(reqs []deployments.Request) string {
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = r.Environment
	}
	return strings.Join(names, ", ")
}
