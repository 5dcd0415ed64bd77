package cli

import (
	"flag"
	"strings"

	"github.com/nix-hive/nix-hive/internal/activation"
)

// registerRollout registers the rollout's flags: waves, batches, the
// rollback of a failed wave and reboots.
func (f *deployFlags) registerRollout(fs *flag.FlagSet) {
	r := &f.request
	fs.Var((*stringList)(&r.Waves), "wave", "a wave of the rollout: instances, globs and @tags as for --on; repeat it for each wave, in order (replaces hive.nix's rollout.waves)")
	fs.StringVar(&r.Batch, "batch", "", "split each wave into batches of N instances or P% of the wave (replaces hive.nix's rollout.batch)")
	fs.BoolVar(&r.RollbackWave, "rollback-wave", false, "when a wave fails, roll back the instances of that wave that were activated")
	fs.BoolVar(&r.Reboot, "reboot", false, "reboot each host after --goal boot, or after a switch that needs a reboot, and wait for it")
	fs.DurationVar(&r.RebootTimeout, "reboot-timeout", activation.DefaultRebootTimeout, "how long to wait for a rebooted host to come back with a new boot")
}

// stringList is a flag that may be repeated; each use adds a value.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
