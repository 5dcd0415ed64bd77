// Package deployments records each instance's deployment as a GitHub
// Deployment, with statuses that follow it (queued, in_progress, then
// success, failure or error), so that a fleet's history shows up in the
// repository's Environments and deployment views.
//
// The deploy engine talks to a Recorder. GitHub is the real one, on
// go-github: it paces writes for GitHub's secondary rate limit
// (golang.org/x/time/rate), retries rate limits, server and network errors
// within a bounded time (go-retryablehttp, waiting as GitHub asks), and
// turns GitHub's refusals into errors a user can act on. Package
// deploymentstest has an in-memory fake for tests, and package record turns
// the deploy engine's events into deployments and statuses. GitHub's limits
// on what is written (description and environment name lengths, URLs) are
// in limits.go, for every package that prepares a deployment.
package deployments

import "context"

// State is a deployment status state as GitHub names it.
type State string

// The states nix-hive sets.
const (
	StateQueued     State = "queued"
	StateInProgress State = "in_progress"
	StateSuccess    State = "success"
	StateFailure    State = "failure"
	StateError      State = "error"
	StateInactive   State = "inactive"
)

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case StateQueued, StateInProgress, StateSuccess, StateFailure, StateError, StateInactive:
		return true
	}
	return false
}

// Request describes the deployment of one instance.
type Request struct {
	// Instance is the machine being deployed, System the name of its
	// system in hive.nix ("web"), StorePath the system's toplevel store
	// path and Goal the deployment goal (switch, boot, test, ...). They make
	// the deployment's payload.
	Instance, System, StorePath, Goal string
	// Flake is the locked source of a hive from a flake, carried in the
	// payload beside StorePath; nil for a hive.nix.
	Flake *FlakeSource
	// Environment is the GitHub environment name; GitHub's default is
	// "production".
	Environment string
	// Ref is the branch, tag or commit deployed. Required.
	Ref         string
	Description string
	// EnvironmentURL is where the instance can be reached; statuses that
	// carry no URL of their own show it.
	EnvironmentURL string
	// Members, when set, make this the deployment of a group of instances
	// (all those of one environment): the payload lists each one's system
	// and store path instead of Instance, System and StorePath.
	Members []Member
	// Production is GitHub's production_environment flag. GitHub's
	// auto_inactive retires earlier deployments only in non-production
	// environments. Environments are never transient: nix-hive sends no
	// transient_environment, which GitHub takes as false.
	Production bool
}

// Member is one instance of a group deployment.
type Member struct {
	Instance, System, StorePath string
}

// FlakeSource is the locked revision of the flake a deployment's systems
// were evaluated from.
type FlakeSource struct {
	// URL is the flake's locked reference.
	URL string `json:"url"`
	// Rev is its git revision, when it is in git.
	Rev string `json:"rev,omitempty"`
	// NarHash is the hash of its source.
	NarHash string `json:"narHash"`
}

// Status is one status update of a deployment.
type Status struct {
	State State
	// Description is cut to MaxDescription characters.
	Description string
	// LogURL links the deployment's output, typically the Actions job.
	LogURL string
	// EnvironmentURL overrides the Request's EnvironmentURL.
	EnvironmentURL string
	// AutoInactive asks GitHub to mark earlier successful deployments in the
	// same environment inactive; meaningful with StateSuccess.
	AutoInactive bool
}

// Recorder records deployments. Implementations are safe for concurrent use.
type Recorder interface {
	// Create records a new deployment and returns its id.
	Create(ctx context.Context, req Request) (int64, error)
	// SetStatus adds a status to the deployment with that id.
	SetStatus(ctx context.Context, id int64, st Status) error
}

var _ Recorder = (*GitHub)(nil)
