package activation

import (
	"fmt"
	"time"
)

// DefaultTimeout is how long nix-hive waits for switch-to-configuration by
// default: long enough for slow activations (container image pulls,
// database migrations in a unit's preStart).
const DefaultTimeout = time.Hour

// Policy is what a failing switch-to-configuration (exit 2, 4 or another
// code but 0 and 100) leads to.
type Policy string

// The policies of --on-activation-failure.
const (
	// Rollback restores the previous generation (the default, as deploy-rs
	// does).
	Rollback Policy = "rollback"
	// Keep keeps the new system, reported activated with a warning.
	Keep Policy = "keep"
)

// ParsePolicy validates a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case Rollback, Keep:
		return p, nil
	}
	return "", fmt.Errorf("unknown policy %q; use rollback or keep", s)
}
