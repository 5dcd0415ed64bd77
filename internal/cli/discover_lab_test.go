package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/ec2fake"
	"github.com/nix-hive/nix-hive/internal/githubfake"
)

// TestActionDeploysDiscovered runs the action on the example fleet whose
// public hosts come from EC2 (a fake endpoint the job's AWS_* variables
// point at) instead of hive.nix: they are deployed and recorded in GitHub
// like hive.nix's, and a machine without a system tag is a warning in the
// log and the step summary.
func TestActionDeploysDiscovered(t *testing.T) {
	a := newLabAction(t)
	public := map[string]map[string]string{
		"web-1": {"nix-hive-system": "web", "nix-hive-url": "http://web-1.example.org"},
		"web-2": {"nix-hive-system": "web", "nix-hive-url": "http://web-2.example.org"},
		"db-1":  {"nix-hive-system": "db", "nix-hive-environment": "staging"},
	}
	var machines []ec2fake.Instance
	for _, n := range []string{"db-1", "web-1", "web-2"} {
		tags := map[string]string{"Name": n, "site": "public"}
		for k, v := range public[n] {
			tags[k] = v
		}
		machines = append(machines, ec2fake.Instance{ID: "i-0" + strings.ReplaceAll(n, "-", "") + "00000000000", PrivateIP: a.lab.Hosts[n].Addr, Tags: tags})
	}
	machines = append(machines, ec2fake.Instance{ID: "i-0untagged0000001", PrivateIP: a.lab.Hosts["web-1"].Addr,
		Tags: map[string]string{"Name": "builder", "site": "public"}})
	fake := ec2fake.New(t, machines, ec2fake.Options{Credentials: map[string]string{"AKIDNIXHIVEACTION001": "action-secret"}})
	fake.Setenv(t, "AKIDNIXHIVEACTION001", "action-secret")

	path := filepath.Join(a.fleet.Dir, "hive.nix")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "    web-1 =") && !strings.HasPrefix(line, "    web-2 =") && !strings.HasPrefix(line, "    db-1 =") {
			kept = append(kept, line)
		}
	}
	hive := strings.Replace(strings.Join(kept, "\n"), "  instances = {",
		`  discover.public = { ec2 = { region = "eu-west-1"; filters."tag:site" = [ "public" ]; }; ssh.User = "root"; };
  instances = {`, 1)
	if err := os.WriteFile(path, []byte(hive), 0o644); err != nil {
		t.Fatal(err)
	}

	gh := githubfake.New(t, githubfake.WithToken(a.token))
	r := a.run(t, gh, `{}`, map[string]string{"INPUT_TARGETS": "web-*,db-1"})
	if r.err != nil {
		t.Fatalf("action failed: %v", r.err)
	}
	results, ids := r.results(t), r.ids(t)
	if len(results) != 3 || len(ids) != 3 {
		t.Fatalf("results %v, deployments %v; want web-1, web-2, db-1", results, ids)
	}
	runURL := "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1"
	for _, n := range []string{"db-1", "web-1", "web-2"} {
		if results[n].Result != "activated" {
			t.Errorf("%s: %+v", n, results[n])
		}
		checkDeployment(t, gh, ids[n], n, environmentOf(n), "success", runURL)
	}
	warning := `discover.public: machine "i-0untagged0000001": tag nix-hive-system: missing`
	if !hasLine(r.stdout.String(), "::warning title=machine left out::", warning) {
		t.Errorf("no warning annotation for the untagged machine")
	}
	if !strings.Contains(r.summary, "**1 machine found by `discover` was left out**") ||
		!strings.Contains(r.summary, strings.ReplaceAll(warning, `"`, "&#34;")) {
		t.Errorf("the summary lacks the machine left out:\n%s", r.summary)
	}
	if fake.Paginations() != 1 {
		t.Errorf("%d paginations, want 1", fake.Paginations())
	}
}
