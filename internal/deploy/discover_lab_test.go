package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/ec2fake"
)

// exampleInstance is an instance of examples/fleet/hive.nix, as its
// infrastructure would tag it.
type exampleInstance struct {
	name, system, store, tags, environment, url string
	site                                        string // "public" or "eu" (behind bastion-eu)
}

// exampleInstances mirror the example's instances block.
var exampleInstances = []exampleInstance{
	{name: "web-1", system: "web", url: "http://web-1.example.org", site: "public"},
	{name: "web-2", system: "web", url: "http://web-2.example.org", site: "public"},
	{name: "db-1", system: "db", environment: "staging", site: "public"},
	{name: "eu-1", system: "edge", store: "eu", tags: "eu", site: "eu"},
	{name: "eu-2", system: "edge", store: "eu", tags: "eu", site: "eu"},
	{name: "eu-3", system: "edge", store: "eu", tags: "eu,canary", site: "eu"},
}

// tags are the instance's tags as the infrastructure carries them.
func (e exampleInstance) tagMap() map[string]string {
	tags := map[string]string{"Name": e.name, "site": e.site, "nix-hive-system": e.system}
	for k, v := range map[string]string{"store": e.store, "tags": e.tags, "environment": e.environment, "url": e.url} {
		if v != "" {
			tags["nix-hive-"+k] = v
		}
	}
	return tags
}

// siteSSH is the ssh options of a discover entry for a site's instances.
func siteSSH(site string) string {
	if site == "eu" {
		return `{ User = "root"; ProxyJump = "bastion-eu"; }`
	}
	return `{ User = "root"; }`
}

// discoverInstances replaces the example's instances block with discover
// entries; systems, the store and sshHosts stay.
func (f *fleet) discoverInstances(entries string) (restore func()) {
	f.t.Helper()
	path := filepath.Join(f.dir, "hive.nix")
	src, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	i := strings.Index(string(src), "  instances = {")
	if i < 0 {
		f.t.Fatal("the example's hive.nix has no instances block")
	}
	f.write("hive.nix", string(src[:i])+entries+"\n}\n")
	return func() { f.write("hive.nix", string(src)) }
}

// checkLikeHive deploys the discovered fleet and checks that every
// instance got what hive.nix's instance of the same name gets on a fresh
// lab: its system, its path (from a build of hive.nix's instances), its
// environment, and activated; then that hive.nix's instances find every
// host unchanged. It returns the discovering run's log.
func (f *fleet) checkLikeHive(t *testing.T, hiveBuild report, restore func()) string {
	t.Helper()
	r, log, err := f.deployLogged()
	if err != nil {
		t.Fatalf("deploying the discovered instances failed: %v", err)
	}
	if len(r.Instances) != len(exampleInstances) {
		t.Errorf("%d instances deployed, want %d: %+v", len(r.Instances), len(exampleInstances), r.Instances)
	}
	for _, e := range exampleInstances {
		got, want := r.Instances[e.name], hiveBuild.Instances[e.name]
		if got.System != want.System || got.Path != want.Path || got.Environment != want.Environment || got.Result != "activated" {
			t.Errorf("%s: %s %s in %s: %s (%s); hive.nix's: %s %s in %s, activated", e.name, got.System, got.Path,
				got.Environment, got.Result, got.Error, want.System, want.Path, want.Environment)
			continue
		}
		if current, profile := f.running(e.name); current != want.Path || profile != want.Path {
			t.Errorf("%s runs %s with profile %s, want %s", e.name, current, profile, want.Path)
		}
	}
	restore()
	again, err := f.deploy()
	if err != nil {
		t.Fatalf("deploying hive.nix's instances after the discovered ones failed: %v", err)
	}
	for _, e := range exampleInstances {
		if o := again.Instances[e.name]; o.Result != "unchanged" || o.Path != hiveBuild.Instances[e.name].Path {
			t.Errorf("%s written in hive.nix: %s %s, want unchanged", e.name, o.Result, o.Path)
		}
	}
	return log
}

// TestDeployFromEC2 deploys a fleet whose instances come only from EC2: a
// fake endpoint (SigV4 checked) lists the lab's hosts, tagged, to two
// discover entries (public hosts, and the eu site behind its bastion),
// which the deployment's environment points at it.
func TestDeployFromEC2(t *testing.T) {
	f := newFleet(t)
	hiveBuild, err := f.deploy("--goal", "build")
	if err != nil {
		t.Fatalf("building hive.nix's instances: %v", err)
	}
	var machines []ec2fake.Instance
	for i, e := range exampleInstances {
		machines = append(machines, ec2fake.Instance{ID: fmt.Sprintf("i-0ab%013d", i), PrivateIP: f.lab.Hosts[e.name].Addr, Tags: e.tagMap()})
	}
	machines = append(machines,
		ec2fake.Instance{ID: "i-0stopped00000001", State: "stopped", PrivateIP: f.lab.Hosts["web-1"].Addr,
			Tags: map[string]string{"Name": "web-old", "site": "public", "nix-hive-system": "web"}},
		ec2fake.Instance{ID: "i-0untagged0000001", PrivateIP: f.lab.Hosts["web-2"].Addr,
			Tags: map[string]string{"Name": "builder", "site": "public"}})
	fake := ec2fake.New(t, machines, ec2fake.Options{PageSize: 2, Credentials: map[string]string{"AKIDNIXHIVELABTEST01": "lab-secret"}})
	fake.Setenv(t, "AKIDNIXHIVELABTEST01", "lab-secret") // labfleet.Environ() passes them to cli.Run
	restore := f.discoverInstances(`  discover.public = { ec2 = { region = "eu-west-1"; filters."tag:site" = [ "public" ]; }; ssh = ` + siteSSH("public") + `; };
  discover.eu = { ec2 = { region = "eu-west-1"; filters."tag:site" = [ "eu" ]; }; ssh = ` + siteSSH("eu") + `; };`)

	log := f.checkLikeHive(t, hiveBuild, restore)
	if !strings.Contains(log, `warning: discover.public: machine "i-0untagged0000001": tag nix-hive-system: missing`) {
		t.Errorf("no warning for the untagged machine in the log")
	}
	if strings.Contains(log, "web-old") {
		t.Errorf("the stopped machine reached the log")
	}
	// One DescribeInstances pagination per source for the discovering
	// run (the run with hive.nix's instances asks nothing).
	if n := fake.Paginations(); n != 2 {
		t.Errorf("%d paginations, want 2 (one per source)", n)
	}
}

// TestDeployFromTerraform deploys a fleet whose instances come from two
// Terraform states the test writes: the public hosts as a v4 state file,
// the eu site's as `terraform show -json` output with the instances in a
// child module.
func TestDeployFromTerraform(t *testing.T) {
	f := newFleet(t)
	hiveBuild, err := f.deploy("--goal", "build")
	if err != nil {
		t.Fatalf("building hive.nix's instances: %v", err)
	}
	var v4, show []map[string]any
	for i, e := range exampleInstances {
		attrs := map[string]any{"id": fmt.Sprintf("i-0tf%013d", i), "instance_state": "running",
			"private_ip": f.lab.Hosts[e.name].Addr, "tags": e.tagMap()}
		if e.site == "eu" {
			show = append(show, map[string]any{"address": fmt.Sprintf("module.site_eu.aws_instance.edge[%d]", len(show)),
				"mode": "managed", "type": "aws_instance", "name": "edge", "index": len(show), "values": attrs})
			continue
		}
		v4 = append(v4, map[string]any{"mode": "managed", "type": "aws_instance", "name": strings.ReplaceAll(e.name, "-", "_"),
			"instances": []any{map[string]any{"schema_version": 1, "attributes": attrs}}})
	}
	writeJSON(t, filepath.Join(f.dir, "public.tfstate"), map[string]any{"version": 4, "terraform_version": "1.9.8",
		"serial": 1, "lineage": "nix-hive-lab", "outputs": map[string]any{}, "resources": v4})
	writeJSON(t, filepath.Join(f.dir, "eu.json"), map[string]any{"format_version": "1.0", "terraform_version": "1.9.8",
		"values": map[string]any{"root_module": map[string]any{"child_modules": []any{
			map[string]any{"address": "module.site_eu", "resources": show}}}}})
	restore := f.discoverInstances(`  discover.public = { terraform.state = ./public.tfstate; ssh = ` + siteSSH("public") + `; };
  discover.eu = { terraform.state = "eu.json"; ssh = ` + siteSSH("eu") + `; };`)

	f.checkLikeHive(t, hiveBuild, restore)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
