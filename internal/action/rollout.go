package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deploy"
)

// Rollout holds the rollout inputs.
type Rollout struct {
	// Waves are the waves input's selectors, one per non-empty line.
	Waves []string
	// Batch is the batch input ("N" or "P%"); "" for none.
	Batch string
	// RollbackWave rolls back a failed wave's activated instances.
	RollbackWave bool
	// Reboot reboots hosts after boot or a switch that needs it, waiting
	// up to RebootTimeout.
	Reboot        bool
	RebootTimeout time.Duration
}

// parseRollout parses the waves, batch, rollback-wave, reboot and
// reboot-timeout inputs.
func (in *Inputs) parseRollout(get func(name, def string) string, bad func(string, error)) {
	r := &in.Rollout
	for _, line := range strings.Split(get("waves", ""), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			r.Waves = append(r.Waves, line)
		}
	}
	r.Batch = strings.TrimSpace(get("batch", ""))
	if err := deploy.ParseWaves(r.Waves, r.Batch); err != nil {
		bad("waves or batch", err)
	}
	var err error
	if r.RollbackWave, err = parseBool(get("rollback-wave", "false")); err != nil {
		bad("rollback-wave", err)
	}
	if r.Reboot, err = parseBool(get("reboot", "false")); err != nil {
		bad("reboot", err)
	}
	if r.RebootTimeout, err = time.ParseDuration(get("reboot-timeout", activation.DefaultRebootTimeout.String())); err != nil || r.RebootTimeout <= 0 {
		bad("reboot-timeout", fmt.Errorf("%q is not a positive duration such as 5m or 90s", get("reboot-timeout", "")))
	}
}

// request adds the rollout inputs to a deploy request.
func (r Rollout) request(req deploy.Request) deploy.Request {
	req.Waves, req.Batch, req.RollbackWave = r.Waves, r.Batch, r.RollbackWave
	req.Reboot, req.RebootTimeout = r.Reboot, r.RebootTimeout
	return req
}
