package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// fleet is the example deployment on a lab.
type fleet struct {
	t   testing.TB
	lab *lab.Lab
	*labfleet.Fleet
	dir string // the deployment
}

// newFleet brings up the lab and copies the example deployment onto it.
func newFleet(t testing.TB) *fleet {
	t.Helper()
	return newFleetOn(t, labfleet.Spec)
}

// newFleetOn brings up a lab of spec and copies the example deployment
// onto it (its hosts.nix names spec's hosts; a test writes its hive.nix).
func newFleetOn(t testing.TB, spec lab.Spec) *fleet {
	t.Helper()
	l := lab.NewForTest(t, spec)
	lf, err := labfleet.Prepare(context.Background(), &process.Exec{}, l, "../../examples/fleet", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &fleet{t: t, lab: l, Fleet: lf, dir: lf.Dir}
}

func (f *fleet) write(name, content string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// deploy runs `nix-hive deploy --json` with args and returns the report and
// the error.
func (f *fleet) deploy(args ...string) (report, error) {
	f.t.Helper()
	r, _, err := f.deployLogged(args...)
	return r, err
}

// deployLogged is deploy, returning the progress log (stderr) too.
func (f *fleet) deployLogged(args ...string) (report, string, error) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Run(context.Background(), f.args(args...), labfleet.Environ(), &stdout, &stderr)
	f.t.Logf("nix-hive %s:\n%s", strings.Join(args, " "), stderr.String())
	var r report
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		f.t.Fatalf("--json output does not parse: %v\n%s\n(the run: %v)", jerr, stdout.String(), err)
	}
	return r, stderr.String(), err
}

// args is the command line of `nix-hive deploy --json` on the fleet, with
// the lab's keys, and extra flags (a later flag overrides an earlier one).
func (f *fleet) args(extra ...string) []string {
	base := []string{"deploy", "--hive", f.dir, "--json", "--ssh-key", f.lab.Key, "--known-hosts", f.lab.KnownHosts, "--signing-key", f.SigningKey}
	return append(base, extra...)
}

// report mirrors the --json output.
type report struct {
	Instances map[string]instanceReport `json:"instances"`
}

// instanceReport is one instance of the --json output.
type instanceReport struct {
	System, Path, Store, Environment, Result, Error, Warning, Wave string
	Seconds                                                        float64
	RebootRequired                                                 bool
}

// on runs a command on a lab host and returns its trimmed output.
func (f *fleet) on(host string, args ...string) string {
	f.t.Helper()
	out, err := f.lab.Exec(context.Background(), host, args...)
	if err != nil {
		f.t.Fatalf("on %s: %v", host, err)
	}
	return strings.TrimSpace(string(out))
}

// running returns what a host runs now and what its profile points at.
func (f *fleet) running(host string) (current, profile string) {
	f.t.Helper()
	out, err := f.lab.Exec(context.Background(), host, "sh", "-c",
		`printf '%s|%s' "$(readlink -f /run/current-system)" "$(readlink -f /nix/var/nix/profiles/system)"`)
	if err != nil {
		f.t.Fatalf("on %s: %v", host, err)
	}
	current, profile, _ = strings.Cut(string(out), "|")
	return current, profile
}

// activations returns the switch-to-configuration calls a host recorded.
func (f *fleet) activations(host string) []string {
	out := f.on(host, "sh", "-c", "cat /run/nix-hive-example/activations 2>/dev/null; true")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func (f *fleet) txBytes(host string) uint64 {
	f.t.Helper()
	n, err := f.lab.TxBytes(context.Background(), host)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// inventorySSHConfig returns the fleet's generated ssh_config.
func (f *fleet) inventorySSHConfig() string {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	if err := cli.Run(context.Background(), []string{"inventory", "--hive", f.dir}, labfleet.Environ(), &stdout, &stderr); err != nil {
		f.t.Fatalf("inventory: %v\n%s", err, stderr.String())
	}
	var inv struct {
		SSHConfig string `json:"sshConfig"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
		f.t.Fatal(err)
	}
	return inv.SSHConfig
}

var motdVersion = regexp.MustCompile(`motd = ("v[0-9]+ " \+ )?`)

// setVersion gives every system a new closure (the edge system a new 1 MiB
// payload too), so that each deployment copies and activates for real.
func (f *fleet) setVersion(version int) {
	for _, system := range []string{"web", "db", "edge"} {
		path := filepath.Join(f.dir, "systems", system+".nix")
		src, err := os.ReadFile(path)
		if err != nil {
			f.t.Fatal(err)
		}
		out := motdVersion.ReplaceAllString(string(src), fmt.Sprintf(`motd = "v%d " + `, version))
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}
