package action

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/sethvargo/go-githubactions"
)

// WriteOutputs sets the action's outputs: results, the --json report of
// every instance, and deployments, each recorded instance's deployment id.
// report may be nil when the run stopped before deploying.
func WriteOutputs(a *githubactions.Action, report *engine.Report, ids map[string]int64) error {
	if a.Getenv("GITHUB_OUTPUT") == "" {
		return errors.New("write the outputs: GITHUB_OUTPUT is not set")
	}
	if report == nil {
		report = &engine.Report{Instances: map[string]*engine.Outcome{}}
	}
	if ids == nil {
		ids = map[string]int64{}
	}
	results, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("write the results output: %w", err)
	}
	deps, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("write the deployments output: %w", err)
	}
	return fileCommand("write the outputs", func() {
		a.SetOutput("results", string(results))
		a.SetOutput("deployments", string(deps))
	})
}

// WriteSummary appends markdown to the job's step summary.
func WriteSummary(a *githubactions.Action, markdown string) error {
	if a.Getenv("GITHUB_STEP_SUMMARY") == "" {
		return errors.New("write the step summary: GITHUB_STEP_SUMMARY is not set")
	}
	return fileCommand("write the step summary", func() { a.AddStepSummary(markdown) })
}

// fileCommand runs go-githubactions file commands, which panic when the
// file cannot be written, and returns that as an error.
func fileCommand(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	f()
	return nil
}
