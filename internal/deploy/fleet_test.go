package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/lab"
)

// fleetSpec is the example fleet's topology: three public hosts, and a
// site behind a bastion with a store and three instances.
var fleetSpec = lab.Spec{Hosts: []lab.HostSpec{
	{Name: "web-1"}, {Name: "web-2"}, {Name: "db-1"},
	{Name: "bastion-eu", Site: "eu", Bastion: true},
	{Name: "store-eu", Site: "eu"},
	{Name: "eu-1", Site: "eu"}, {Name: "eu-2", Site: "eu"}, {Name: "eu-3", Site: "eu"},
}}

// fleet is the example deployment copied into a temporary directory and
// pointed at a lab.
type fleet struct {
	t          *testing.T
	lab        *lab.Lab
	dir        string // the deployment
	signingKey string
}

// newFleet brings up the lab and writes the example deployment with the
// lab's addresses and a fresh signing key.
func newFleet(t *testing.T) *fleet {
	t.Helper()
	l := lab.NewForTest(t, fleetSpec)
	f := &fleet{t: t, lab: l, dir: filepath.Join(t.TempDir(), "fleet")}
	if out, err := exec.Command("cp", "-r", "../../examples/fleet", f.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v: %s", err, out)
	}
	keys := t.TempDir()
	f.signingKey = filepath.Join(keys, "secret")
	if out, err := exec.Command("nix-store", "--generate-binary-cache-key", "store-eu", f.signingKey, filepath.Join(keys, "public")).CombinedOutput(); err != nil {
		t.Fatalf("make a signing key: %v: %s", err, out)
	}
	public, err := os.ReadFile(filepath.Join(keys, "public"))
	if err != nil {
		t.Fatal(err)
	}
	var hosts strings.Builder
	hosts.WriteString("{\n")
	for name, h := range l.Hosts {
		fmt.Fprintf(&hosts, "  %s = %q;\n", name, h.Addr)
	}
	fmt.Fprintf(&hosts, "  storePublicKey = %q;\n}\n", strings.TrimSpace(string(public)))
	f.write("hosts.nix", hosts.String())
	return f
}

func (f *fleet) write(name, content string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// environ is the environment nix-hive runs with: the lab has no binary
// cache, so nix is told not to look for one.
func environ() []string {
	return append(os.Environ(), "NIX_CONFIG=substituters =")
}

// deploy runs `nix-hive deploy --json` with args and returns the report and
// the error.
func (f *fleet) deploy(args ...string) (report, error) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	base := []string{"deploy", "--hive", f.dir, "--json", "--ssh-key", f.lab.Key, "--known-hosts", f.lab.KnownHosts, "--signing-key", f.signingKey}
	err := cli.Run(context.Background(), append(base, args...), environ(), &stdout, &stderr)
	f.t.Logf("nix-hive %s:\n%s", strings.Join(args, " "), stderr.String())
	var r report
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		f.t.Fatalf("--json output does not parse: %v\n%s", jerr, stdout.String())
	}
	return r, err
}

// report mirrors the --json output.
type report struct {
	Instances map[string]struct {
		System, Path, Store, Result, Error string
		Seconds                            float64
	} `json:"instances"`
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
