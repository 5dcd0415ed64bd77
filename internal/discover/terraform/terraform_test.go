package terraform

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nix-hive/nix-hive/internal/discover"
)

func source(t *testing.T, file string) discover.Source {
	path, err := filepath.Abs(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return discover.Source{Name: "infra", Terraform: &discover.Terraform{State: path},
		TagPrefix: "nix-hive-", Address: "private", NameTag: "Name", SSH: map[string]string{"User": "root"}}
}

// fleetMachines is what both forms of testdata/fleet.* hold: every
// resource type, a child module, count and for_each; not the data
// source, the VPC, the deposed object or the untagged firewall.
var fleetMachines = []discover.Machine{
	{ID: "i-0aaaaaaaaaaaaaa01", Address: "aws_instance.web[0]",
		Tags:      map[string]string{"Name": "web-1", "nix-hive-system": "web", "nix-hive-store": "eu", "nix-hive-tags": "eu, frontend", "ManagedBy": "terraform"},
		PrivateIP: "10.0.1.11", PublicIP: "203.0.113.11", PrivateDNS: "ip-10-0-1-11.eu-west-1.compute.internal",
		PublicDNS: "ec2-203-0-113-11.eu-west-1.compute.amazonaws.com", State: "running"},
	{ID: "i-0aaaaaaaaaaaaaa02", Address: "aws_instance.web[1]",
		Tags: map[string]string{"Name": "web-2", "nix-hive-system": "web", "nix-hive-store": "eu", "nix-hive-tags": "eu, frontend",
			"nix-hive-url": "https://web-2.example.com", "ManagedBy": "terraform"},
		PrivateIP: "10.0.1.12", PublicIP: "203.0.113.12", PrivateDNS: "ip-10-0-1-12.eu-west-1.compute.internal",
		PublicDNS: "ec2-203-0-113-12.eu-west-1.compute.amazonaws.com", State: "running"},
	{ID: "i-0aaaaaaaaaaaaaa09", Address: "aws_instance.stopped",
		Tags:      map[string]string{"Name": "web-9", "nix-hive-system": "web", "nix-hive-store": "eu", "nix-hive-tags": "eu, frontend", "ManagedBy": "terraform"},
		PrivateIP: "10.0.1.19", PrivateDNS: "ip-10-0-1-19.eu-west-1.compute.internal", State: "stopped"},
	{ID: "41234567", Address: "module.eu.hcloud_server.db", Name: "db-1",
		Tags:      map[string]string{"nix-hive-system": "db", "nix-hive-environment": "staging"},
		PrivateIP: "10.1.0.21", PublicIP: "198.51.100.21", State: "running"},
	{ID: "1234567890123456789", Address: "module.eu.module.edge.google_compute_instance.cache", Name: "cache-1",
		Tags:      map[string]string{"nix-hive-system": "web", "nix-hive-tags": "edge", "goog-terraform-provisioned": "true"},
		PrivateIP: "10.2.0.5", PublicIP: "192.0.2.5", State: "running"},
	{ID: "345678901", Address: `digitalocean_droplet.worker["a"]`, Name: "worker-a",
		Tags:      map[string]string{"nix-hive-system": "web", "nix-hive-tags": "do,batch"},
		PrivateIP: "10.3.0.7", PublicIP: "192.0.2.7", State: "running"},
	{ID: "56789012", Address: "linode_instance.legacy", Name: "legacy-1",
		Tags:      map[string]string{"nix-hive-system": "db"},
		PrivateIP: "192.168.130.9", PublicIP: "192.0.2.9"},
}

func byAddress(ms []discover.Machine) []discover.Machine {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b discover.Machine) int { return strings.Compare(a.Address, b.Address) })
	return ms
}

func TestMachinesBothFormats(t *testing.T) {
	for _, file := range []string{"fleet.tfstate", "fleet-show.json"} {
		t.Run(file, func(t *testing.T) {
			got, err := Reader{}.Machines(context.Background(), source(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(byAddress(fleetMachines), byAddress(got)); diff != "" {
				t.Errorf("machines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFleetInstances(t *testing.T) {
	systems := map[string]bool{"web": true, "db": true}
	stores := map[string]bool{"eu": true}
	ssh := func(host string) map[string]string { return map[string]string{"User": "root", "HostName": host} }
	want := []discover.Instance{
		{Name: "cache-1", System: "web", Tags: []string{"edge"}, SSH: ssh("10.2.0.5"), Environment: "production",
			Source: "infra", MachineID: "1234567890123456789"},
		{Name: "db-1", System: "db", Tags: []string{}, SSH: ssh("10.1.0.21"), Environment: "staging",
			Source: "infra", MachineID: "41234567"},
		{Name: "legacy-1", System: "db", Tags: []string{}, SSH: ssh("192.168.130.9"), Environment: "production",
			Source: "infra", MachineID: "56789012"},
		{Name: "web-1", System: "web", Store: "eu", Tags: []string{"eu", "frontend"}, SSH: ssh("10.0.1.11"),
			Environment: "production", Source: "infra", MachineID: "i-0aaaaaaaaaaaaaa01"},
		{Name: "web-2", System: "web", Store: "eu", Tags: []string{"eu", "frontend"}, SSH: ssh("10.0.1.12"),
			Environment: "production", URL: "https://web-2.example.com", Source: "infra", MachineID: "i-0aaaaaaaaaaaaaa02"},
		{Name: "worker-a", System: "web", Tags: []string{"do", "batch"}, SSH: ssh("10.3.0.7"), Environment: "production",
			Source: "infra", MachineID: "345678901"},
	}
	for _, file := range []string{"fleet.tfstate", "fleet-show.json"} {
		t.Run(file, func(t *testing.T) {
			src := source(t, file)
			got, warnings, err := discover.Discover(context.Background(), []discover.Source{src},
				discover.Readers{Terraform: Reader{}}, systems, stores)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("instances (-want +got):\n%s", diff)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings %v, want none", warnings)
			}
		})
	}
}

func TestBadValuesLeaveMachinesOut(t *testing.T) {
	src := source(t, "bad-values.tfstate")
	got, warnings, err := discover.Discover(context.Background(), []discover.Source{src},
		discover.Readers{Terraform: Reader{}}, map[string]bool{"web": true}, map[string]bool{"eu": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "ok-1" {
		t.Errorf("instances %+v, want ok-1 alone", got)
	}
	want := map[string]string{ // machine id: what its warning must say
		"i-0bad0000000000001": "tag nix-hive-system: missing",
		"i-0bad0000000000002": `tag nix-hive-system: "mail" is not a system of the hive (defined: web)`,
		"i-0bad0000000000003": `name: the name "web-1" is also the name of machine "i-0bad0000000000004"`,
		"i-0bad0000000000004": `name: the name "web-1" is also the name of machine "i-0bad0000000000003"`,
		"i-0bad0000000000005": `tag Name: "web\n  ProxyCommand evil" is not an instance name`,
		"i-0bad0000000000006": `tag nix-hive-tags: "\"x" is not a tag`,
		"i-0bad0000000000007": `address: "10.0.0.1 -oProxyCommand=x" is not an IP address or a DNS name`,
		"i-0bad0000000000008": `tag nix-hive-store: "us" is not a store of the hive (defined: eu)`,
		"i-0bad0000000000009": `tag nix-hive-url: "javascript:alert(1)" is not an http(s) URL`,
		"i-0bad0000000000010": `tag nix-hive-environment: "prod\nuction" is not an environment name`,
		"i-0bad0000000000011": `tag Name: "my host" is not an instance name`,
		"i-0bad0000000000012": `tag nix-hive-system: "web\nProxyCommand x" is not a system of the hive`,
		"i-0bad0000000000013": "address: the machine has no private IP address",
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		line := w.String()
		t.Log(line)
		if strings.Contains(line, "\n") {
			t.Errorf("warning %q spans lines: untrusted values must be quoted", line)
		}
		if w.Source != "infra" {
			t.Errorf("warning %q names source %q, want infra", line, w.Source)
		}
		part, ok := want[w.Machine]
		if !ok {
			t.Errorf("unexpected warning %q", line)
			continue
		}
		seen[w.Machine] = true
		if !strings.Contains(line, part) || !strings.HasPrefix(line, `discover.infra: machine "`+w.Machine+`"`) {
			t.Errorf("warning %q does not start with the source and machine and say %q", line, part)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no warning for machine %s", id)
		}
	}
}

func TestUnreadableStates(t *testing.T) {
	tests := []struct {
		file    string
		unknown bool // wraps ErrUnknownFormat
		want    string
	}{
		{"v3.tfstate", true, "state version 3 is from Terraform 0.11 or older"},
		{"v5.tfstate", true, "state version 5 is newer than version 4"},
		{"show-v2.json", true, `unsupported state format version`},
		{"plan.json", true, "this is a plan"},
		{"not-json.tfstate", true, "it is not JSON"},
		{"no-version.tfstate", true, `neither "version"`},
		{"missing.tfstate", false, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src := source(t, tt.file)
			_, _, err := discover.Discover(context.Background(), []discover.Source{src},
				discover.Readers{Terraform: Reader{}}, map[string]bool{"web": true}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			prefix := "discover.infra (terraform, " + src.Terraform.State + "): "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with %q and say %q", err, prefix, tt.want)
			}
			if errors.Is(err, ErrUnknownFormat) != tt.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownFormat) = %v, want %v", err, !tt.unknown, tt.unknown)
			}
		})
	}
}

func TestGenericResources(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
		want  *discover.Machine
	}{
		{"tags map and private_ip", map[string]any{"id": "x-1", "name": "n1", "tags": map[string]any{"nix-hive-system": "web"},
			"private_ip": "10.0.0.1", "public_ip": "192.0.2.1"},
			&discover.Machine{ID: "x-1", Address: "other_server.a", Name: "n1", Tags: map[string]string{"nix-hive-system": "web"},
				PrivateIP: "10.0.0.1", PublicIP: "192.0.2.1"}},
		{"labels and ipv4_address", map[string]any{"id": 42.0, "labels": map[string]any{"nix-hive-system": "db", "n": 1.0},
			"ipv4_address": "192.0.2.2", "fqdn": "db.example.com"},
			&discover.Machine{ID: "42", Address: "other_server.a", Tags: map[string]string{"nix-hive-system": "db"},
				PublicIP: "192.0.2.2", PublicDNS: "db.example.com"}},
		{"key:value tag list", map[string]any{"tags": []any{"nix-hive-system:web", "plain"}, "access_ip_v4": "192.0.2.3"},
			&discover.Machine{ID: "other_server.a", Address: "other_server.a", Tags: map[string]string{"nix-hive-system": "web"},
				PublicIP: "192.0.2.3"}},
		{"no nix-hive tag", map[string]any{"tags": map[string]any{"Name": "vpc"}, "private_ip": "10.0.0.1"}, nil},
		{"no tags", map[string]any{"private_ip": "10.0.0.1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Machine(Resource{Address: "other_server.a", Type: "other_server", Attributes: tt.attrs}, "nix-hive-")
			if tt.want == nil {
				if ok {
					t.Errorf("taken for a machine: %+v", got)
				}
				return
			}
			if diff := cmp.Diff(*tt.want, got); !ok || diff != "" {
				t.Errorf("machine (-want +got), ok=%v:\n%s", ok, diff)
			}
		})
	}
}
