package plan

import (
	"context"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/closure"
)

// build builds, on the runner, each system some changed or new instance
// needs, so that the target's closure is known exactly; a system that
// does not build leaves its instances without a diff.
func (p *planner) build(ctx context.Context, res *Result) {
	needed := map[string]bool{}
	for _, i := range res.Instances {
		if needsDiff(i) {
			needed[i.System] = true
		}
	}
	var names []string
	for n := range needed {
		names = append(names, n)
	}
	forEach(names, 2, func(name string) {
		if err := p.s.Stages.Builder.Build(ctx, p.systems[name]); err != nil {
			p.mu.Lock()
			p.errs[name] = err
			p.mu.Unlock()
		}
	})
}

// targetClosures reads each built system's closure on the runner, once
// per system.
func (p *planner) targetClosures(ctx context.Context, res *Result) map[string]closureOrErr {
	out := map[string]closureOrErr{}
	for _, i := range res.Instances {
		if !needsDiff(i) {
			continue
		}
		if _, done := out[i.System]; done {
			continue
		}
		if err := p.errs[i.System]; err != nil {
			out[i.System] = closureOrErr{err: err}
			continue
		}
		c, err := p.closures.Local(ctx, i.Target)
		out[i.System] = closureOrErr{c, err}
	}
	return out
}

type closureOrErr struct {
	c   closure.Closure
	err error
}

// diff compares a changed instance's running closure, read on the host,
// with its target's; a new instance's diff adds the whole target closure.
func (p *planner) diff(ctx context.Context, name string, i *Instance, targets map[string]closureOrErr) {
	if !needsDiff(i) {
		return
	}
	target := targets[i.System]
	if target.err != nil {
		i.Error = fmt.Sprintf("no closure diff: %v", target.err)
		return
	}
	var running closure.Closure
	if i.Running != "" {
		var err error
		if running, err = p.closures.Remote(ctx, name, i.Running); err != nil {
			i.Error = fmt.Sprintf("no closure diff: %v", err)
			return
		}
	}
	d := closure.Compare(running, target.c)
	i.Diff = &d
}
