package dryrun

import (
	"context"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/build"
	"github.com/nix-hive/nix-hive/internal/distribute"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// refuse is a Runner that fails the test on any command: a dry run runs
// nothing.
type refuse struct{ t *testing.T }

func (r refuse) Run(_ context.Context, c process.Command) ([]byte, error) {
	r.t.Errorf("a dry run ran %s", c)
	return nil, nil
}

func TestDryRunPrintsTheCommandsAndRunsNothing(t *testing.T) {
	inst := func(system, store string) inventory.Instance {
		return inventory.Instance{System: system, Store: store, Environment: "production"}
	}
	inv := &inventory.Inventory{
		File:    "/d/hive.nix",
		Systems: map[string]inventory.System{"web": {System: "x86_64-linux", Path: []string{"deployment=/d"}}, "db": {System: "x86_64-linux"}},
		Stores:  map[string]inventory.Store{"eu": {URL: "ssh-ng://cache-eu", Substituter: "ssh://10.0.0.5"}},
		Instances: map[string]inventory.Instance{
			"web-1": inst("web", "eu"), "db-1": inst("db", ""), "db-2": inst("db", ""),
		},
	}
	inv.Instances["db-2"] = inventory.Instance{System: "db", Environment: "production", SSH: map[string]string{"User": "deploy"}}
	r := refuse{t}
	ssh := &sshconfig.Config{Path: "/run/ssh_config"}
	var out strings.Builder
	stages := Stages(
		&build.Nix{Runner: r, Inventory: inv, ExprDir: "/hive"},
		&distribute.Nix{Runner: r, Inventory: inv, SSH: ssh, SigningKey: "/k"},
		&activation.Hosts{Runner: r, SSH: ssh},
		&out)
	if _, err := (&engine.Engine{Stages: stages, Goal: goal.Switch}).Run(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"nix-instantiate /hive/system.nix --argstr hiveFile /d/hive.nix --argstr name web",
		"nix-store --query --outputs '/nix/store/<web.drv>'",
		"nix-store --realise '/nix/store/<web.drv>'",
		"nix --extra-experimental-features nix-command store sign --recursive --key-file /k '/nix/store/<web>'",
		"'NIX_SSHOPTS=-F /run/ssh_config' nix --extra-experimental-features nix-command copy --no-check-sigs --to ssh-ng://cache-eu '/nix/store/<web>'",
		// signed again in the store, for the paths it already had
		"'NIX_SSHOPTS=-F /run/ssh_config' nix --extra-experimental-features nix-command store sign --store ssh-ng://cache-eu --recursive --key-file /k '/nix/store/<web>'",
		// a GC root on the instance first, then the closure from the store
		"'\\'' sh '\\''/nix/store/<web>'\\'' nix-store --realise '\\''/nix/store/<web>'\\'' --option extra-substituters ssh://10.0.0.5 --option narinfo-cache-negative-ttl 0'",
		"nix-hive-agent start '\\''<id>'\\'' '\\''/nix/store/<db>'\\'' switch yes running 0 rollback'",
		"'\\'' sh '\\''/nix/store/<db>'\\'' true'",
		"'NIX_SSHOPTS=-F /run/ssh_config' nix --extra-experimental-features nix-command copy --no-check-sigs --to ssh://db-1 '/nix/store/<db>'",
		// a login that is not root runs nix-store through sudo where it may
		"--to 'ssh://db-2?remote-program=sh%20-c%20%27if%20%5B%20%22%24%28id%20-u%29%22%20%21%3D%200%20%5D%20%26%26%20sudo%20-n%20true%202%3E%2Fdev%2Fnull%3B%20then%20exec%20sudo%20-n%20nix-store%20%22%24%40%22%3B%20fi%3B%20exec%20nix-store%20%22%24%40%22%27%20sh' '/nix/store/<db>'",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
}
