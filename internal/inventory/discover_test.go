package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/hive"
	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

// fakeReader returns its machines, or its error, and counts the reads.
type fakeReader struct {
	machines []discover.Machine
	err      error
	reads    int
}

func (f *fakeReader) Machines(_ context.Context, src discover.Source) ([]discover.Machine, error) {
	f.reads++
	return f.machines, f.err
}

// discoverHive writes the test fleet with discover entries added.
func discoverHive(t *testing.T, entries string) string {
	t.Helper()
	src, err := os.ReadFile("testdata/fleet/hive.nix")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "hive.nix")
	edited := strings.Replace(string(src), "  sshHosts.bastion =", entries+"\n  sshHosts.bastion =", 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func loadWith(t *testing.T, file string, readers discover.Readers) (*Inventory, error) {
	t.Helper()
	testenv.RequireTools(t, "nix-instantiate", "ssh")
	exprs, err := hive.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return Load(context.Background(), &process.Exec{}, exprs, file, readers)
}

// machine is a running machine tagged for the test fleet.
func machine(id, name, system string, extra ...string) discover.Machine {
	tags := map[string]string{"Name": name, "nix-hive-system": system}
	for i := 0; i+1 < len(extra); i += 2 {
		tags[extra[i]] = extra[i+1]
	}
	return discover.Machine{ID: id, Tags: tags, PrivateIP: "10.1.0." + id[len(id)-1:], State: "running"}
}

const prodEC2 = `discover.prod = { ec2 = { region = "eu-west-1"; filters."tag:env" = [ "prod" ]; }; ssh = { User = "root"; ProxyJump = "bastion"; }; };`

func TestLoadMergesDiscoveredInstances(t *testing.T) {
	ec2 := &fakeReader{machines: []discover.Machine{
		machine("i-1", "app-1", "web", "nix-hive-tags", "eu,frontline", "nix-hive-store", "eu", "nix-hive-url", "https://app-1.example.com"),
		machine("i-2", "app-2", "db", "nix-hive-environment", "staging"),
		machine("i-3", "stray", ""),
		machine("i-4", "web\nProxyCommand nc evil 22", "web"),
		machine("i-5", "app-5", "nosuch"),
	}}
	inv, err := loadWith(t, discoverHive(t, prodEC2), discover.Readers{EC2: ec2})
	if err != nil {
		t.Fatal(err)
	}
	if ec2.reads != 1 {
		t.Errorf("the source was read %d times, want once", ec2.reads)
	}
	if got := inv.InstanceNames(); !slices.Contains(got, "app-1") || !slices.Contains(got, "app-2") || len(got) != 8 {
		t.Errorf("instances = %v, want the 6 of hive.nix and app-1, app-2", got)
	}
	app1 := inv.Instances["app-1"]
	if app1.System != "web" || app1.Store != "eu" || app1.Environment != "production" || app1.URL != "https://app-1.example.com" ||
		app1.Source != "prod" || app1.MachineID != "i-1" || app1.SSH["HostName"] != "10.1.0.1" || app1.SSH["ProxyJump"] != "bastion" {
		t.Errorf("app-1 = %+v", app1)
	}
	if got := inv.Tags("app-1"); strings.Join(got, " ") != "eu frontline frontend" {
		t.Errorf("tags of app-1 = %v, want its own and its system's", got)
	}
	if got := inv.Instances["app-2"].Environment; got != "staging" {
		t.Errorf("app-2's environment = %q", got)
	}
	if want := "Host app-1\n  HostName 10.1.0.1\n  ProxyJump bastion\n  User root\n"; !strings.Contains(inv.SSHConfig, want) {
		t.Errorf("sshConfig lacks %q:\n%s", want, inv.SSHConfig)
	}
	if strings.Contains(inv.SSHConfig, "ProxyCommand") || strings.Contains(inv.SSHConfig, "stray") {
		t.Errorf("a machine left out reached the ssh config:\n%s", inv.SSHConfig)
	}
	wantWarnings := []string{
		`discover.prod: machine "i-3": tag nix-hive-system: missing;`,
		`discover.prod: machine "i-4": tag Name: "web\nProxyCommand nc evil 22" is not an instance name`,
		`discover.prod: machine "i-5": tag nix-hive-system: "nosuch" is not a system of the hive`,
	}
	if len(inv.Warnings) != len(wantWarnings) {
		t.Fatalf("warnings %q, want %d", inv.Warnings, len(wantWarnings))
	}
	for i, w := range wantWarnings {
		if !strings.HasPrefix(inv.Warnings[i], w) || strings.Contains(inv.Warnings[i], "\n") {
			t.Errorf("warning %q, want %q on one line", inv.Warnings[i], w)
		}
	}
	if only := inv.Only([]string{"app-1"}); len(only.Warnings) != 3 || only.Instances["app-1"].Source != "prod" {
		t.Errorf("Only drops the warnings or the source: %+v", only)
	}
}

func TestLoadRefusesBadDiscovery(t *testing.T) {
	tests := []struct {
		name     string
		entries  string
		machines []discover.Machine
		err      error
		want     []string
	}{
		{"clash with an instance", prodEC2, []discover.Machine{machine("i-1", "web-1", "web")},
			nil, []string{`hive.nix: discover.prod: machine "i-1" is named "web-1" like instances.web-1 in hive.nix; rename one of them`}},
		{"clash with an sshHosts entry", prodEC2, []discover.Machine{machine("i-1", "bastion", "web"), machine("i-2", "cache-eu", "db")},
			nil, []string{`hive.nix: discover.prod: machine "i-1" is named "bastion" like sshHosts.bastion in hive.nix`,
				`hive.nix: discover.prod: machine "i-2" is named "cache-eu" like sshHosts.cache-eu in hive.nix`}},
		{"unreadable source", prodEC2, nil, errors.New("EC2 endpoint unreachable: https://ec2.eu-west-1.amazonaws.com: dial tcp: refused"),
			[]string{"hive.nix: discover.prod (ec2, eu-west-1): EC2 endpoint unreachable"}},
		{"invalid values", `discover.prod = { ec2.region = "EU West"; address = "elsewhere"; };`, nil, nil,
			[]string{`hive.nix: discover.prod.ec2.region: "EU West" is not an AWS region`, `hive.nix: discover.prod.address: "elsewhere" is not one of private, public, dns`}},
		{"both kinds", `discover.prod = { ec2.region = "eu-west-1"; terraform.state = ./x.tfstate; };`, nil, nil,
			[]string{"hive.nix: discover.prod: set only one of ec2 and terraform"}},
		{"an ssh option ssh rejects", `discover.prod = { ec2.region = "eu-west-1"; ssh.Prot = 2; };`, []discover.Machine{machine("i-1", "app-1", "web")}, nil,
			[]string{"hive.nix: discover.prod.ssh.Prot: ssh rejects it: Bad configuration option: prot"}},
		{"HostName set by hand", `discover.prod = { ec2.region = "eu-west-1"; ssh.HostName = "10.0.0.1"; };`, nil, nil,
			[]string{"hive.nix: discover.prod.ssh.HostName: discovery sets it"}},
		{"shape: region not a string", `discover.prod = { ec2.region = 1; };`, nil, nil,
			[]string{"hive.nix: discover.prod.ec2.region: expected a string, got an integer"}},
		{"shape: filter values not a list", `discover.prod = { ec2 = { region = "eu-west-1"; filters."tag:env" = "prod"; }; };`, nil, nil,
			[]string{`hive.nix: discover.prod.ec2.filters."tag:env": expected a list of strings, got a string`}},
		{"shape: misspelt attribute", `discover.prod = { ec2.region = "eu-west-1"; tagprefix = "x-"; };`, nil, nil,
			[]string{"hive.nix: discover.prod.tagprefix: unknown attribute; expected one of: ec2, terraform, tagPrefix, address, name, ssh"}},
		{"shape: state not a path", `discover.infra = { terraform.state = 4; };`, nil, nil,
			[]string{"hive.nix: discover.infra.terraform.state: expected a path (./terraform.tfstate) or a string, got an integer"}},
		{"shape: bad entry name", `discover."pr od" = { ec2.region = "eu-west-1"; };`, nil, nil,
			[]string{`hive.nix: discover."pr od": the name must match`}},
		{"shape: ssh value with a newline", `discover.prod = { ec2.region = "eu-west-1"; ssh.User = "root\nProxyCommand evil"; };`, nil, nil,
			[]string{"hive.nix: discover.prod.ssh.User: the value must not contain a newline or a double quote"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := &fakeReader{machines: tt.machines, err: tt.err}
			_, err := loadWith(t, discoverHive(t, tt.entries), discover.Readers{EC2: reader, Terraform: reader})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadResolvesTheStatePath(t *testing.T) {
	tests := []struct {
		name, state, want string
	}{
		{"a path", "./infra/terraform.tfstate", "infra/terraform.tfstate"},
		{"a relative string", `"infra/show.json"`, "infra/show.json"},
		{"an absolute string", `"/srv/infra/terraform.tfstate"`, "/srv/infra/terraform.tfstate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			reader := readerFunc(func(src discover.Source) { got = src.Terraform.State })
			file := discoverHive(t, `discover.infra = { terraform.state = `+tt.state+`; };`)
			if _, err := loadWith(t, file, discover.Readers{Terraform: reader}); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(filepath.Dir(file), want)
			}
			if got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}

// readerFunc sees each source and finds no machine.
type readerFunc func(discover.Source)

func (f readerFunc) Machines(_ context.Context, src discover.Source) ([]discover.Machine, error) {
	f(src)
	return nil, nil
}
