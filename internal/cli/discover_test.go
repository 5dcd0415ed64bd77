package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/ec2fake"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

// tfState is a version 4 Terraform state of hcloud servers: name, labels,
// public address.
func tfState(servers ...[3]string) string {
	var res []string
	for i, s := range servers {
		res = append(res, fmt.Sprintf(`{"mode":"managed","type":"hcloud_server","name":"s%d","provider":"provider[\"registry.terraform.io/hetznercloud/hcloud\"]",
"instances":[{"schema_version":0,"attributes":{"id":"%d","name":%q,"status":"running","ipv4_address":%q,"labels":%s}}]}`, i, 100+i, s[0], s[1], s[2]))
	}
	return `{"version":4,"terraform_version":"1.9.8","serial":1,"lineage":"x","outputs":{},"resources":[` + strings.Join(res, ",") + `]}`
}

// TestInventoryDiscovers runs `nix-hive inventory` on a hive whose
// discover entries read a fake EC2 endpoint and a Terraform state: the
// machines are instances in the JSON and the ssh config, --on selects
// them by tag, the machines left out are warnings on stderr, and each
// source is read once.
func TestInventoryDiscovers(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate", "ssh")
	fleet, _ := filepath.Abs("../inventory/testdata/fleet/hive.nix")
	fake := ec2fake.New(t, []ec2fake.Instance{
		{ID: "i-0000000000000001", PrivateIP: "10.2.0.1", Tags: map[string]string{"Name": "app-1", "env": "prod", "nix-hive-system": "web", "nix-hive-tags": "blue"}},
		{ID: "i-0000000000000002", PrivateIP: "10.2.0.2", Tags: map[string]string{"Name": "app-2", "env": "prod"}},
		{ID: "i-0000000000000003", PrivateIP: "10.2.0.3", Tags: map[string]string{"Name": "app-3", "env": "test", "nix-hive-system": "web"}},
	}, ec2fake.Options{Credentials: map[string]string{"AKIDNIXHIVECLITEST01": "cli-test-secret"}})
	fake.Setenv(t, "AKIDNIXHIVECLITEST01", "cli-test-secret")
	dir := t.TempDir()
	state := tfState([3]string{"hz-1", "198.51.100.21", `{"nix-hive-system":"db","nix-hive-tags":"blue"}`},
		[3]string{"hz-2", "198.51.100.22", `{"nix-hive-system":"db","nix-hive-environment":"bad\nenv"}`})
	os.WriteFile(filepath.Join(dir, "infra.tfstate"), []byte(state), 0o644)
	os.WriteFile(filepath.Join(dir, "hive.nix"), []byte(`import `+fleet+` // {
  discover.prod = { ec2 = { region = "eu-west-1"; filters."tag:env" = [ "prod" ]; }; ssh = { User = "root"; ProxyJump = "bastion"; }; };
  discover.infra = { terraform.state = ./infra.tfstate; address = "public"; };
}`), 0o644)

	tests := []struct {
		name, on string
		want     []string
	}{
		{"every instance", "", []string{"app-1", "db-1", "edge-1", "edge-2", "hz-1", "web-1", "web-2", "web-3"}},
		{"by a discovered tag", "@blue", []string{"app-1", "hz-1"}},
		{"by name and glob", "app-*,hz-1", []string{"app-1", "hz-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fake.Paginations()
			var stdout, stderr bytes.Buffer
			if err := Run(context.Background(), []string{"inventory", "--hive", dir, "--on", tt.on}, os.Environ(), &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if n := fake.Paginations() - before; n != 1 {
				t.Errorf("%d DescribeInstances paginations, want 1", n)
			}
			var inv struct {
				Instances map[string]struct {
					Source, MachineID string
					SSH               map[string]string
				}
				SSHConfig string
				Warnings  []string
			}
			if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
				t.Fatal(err)
			}
			var got []string
			for n := range inv.Instances {
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("instances %v, want %v", got, tt.want)
			}
			if hz, ok := inv.Instances["hz-1"]; ok && (hz.Source != "infra" || hz.MachineID != "100" || hz.SSH["HostName"] != "198.51.100.21") {
				t.Errorf("hz-1 = %+v", hz)
			}
			if _, ok := inv.Instances["app-1"]; ok && !strings.Contains(inv.SSHConfig, "Host app-1\n  HostName 10.2.0.1\n  ProxyJump bastion\n  User root\n") {
				t.Errorf("ssh config lacks app-1:\n%s", inv.SSHConfig)
			}
			for _, w := range []string{`warning: discover.infra: machine "101" (hcloud_server.s1): tag nix-hive-environment: "bad\nenv" is not an environment name`,
				`warning: discover.prod: machine "i-0000000000000002": tag nix-hive-system: missing`} {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if len(inv.Warnings) != 2 {
				t.Errorf("warnings %q, want 2", inv.Warnings)
			}
		})
	}
}
