package sshconfig

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

// fleetBlocks is a small fleet: a direct instance, one behind a bastion
// that is itself behind an outer one, and an unrelated host.
func fleetBlocks() []Block {
	return []Block{
		{Name: "web-1", Origin: "instances.web-1.ssh", Options: map[string]string{"HostName": "10.0.0.1", "User": "root"}},
		{Name: "eu-1", Origin: "instances.eu-1.ssh", Options: map[string]string{"HostName": "10.1.0.1", "ProxyJump": "jump@bastion:2200", "Port": "2222"}},
		{Name: "bastion", Origin: "sshHosts.bastion", Options: map[string]string{"hostname": "%h.example.com", "ProxyJump": "outer"}},
		{Name: "outer", Origin: "sshHosts.outer", Options: map[string]string{"HostName": "203.0.113.7", "HostKeyAlias": "outer-key", "StrictHostKeyChecking": "yes"}},
		{Name: "other", Origin: "sshHosts.other", Options: map[string]string{"HostName": "192.0.2.1"}},
	}
}

func TestRenderHostFile(t *testing.T) {
	tests := []struct {
		name  string
		o     Options
		host  string
		fresh bool
		want  []string
		not   []string
	}{
		{"direct", Options{}, "web-1", false,
			[]string{"Host web-1\n", "Host *\n", "BatchMode yes", "ConnectTimeout 10", "StrictHostKeyChecking yes", "ControlMaster auto", "ControlPersist 60"},
			[]string{"Host eu-1", "Host bastion", "Host other", "IdentityFile", "accept-new", "UserKnownHostsFile", "ControlPath none"}},
		{"jump chain", Options{}, "eu-1", false, []string{"Host eu-1\n", "Host bastion\n", "Host outer\n"}, []string{"Host web-1", "Host other"}},
		{"fresh", Options{}, "eu-1", true, []string{"Host *\n  ControlMaster no\n  ControlPath none\n\nHost eu-1"}, nil},
		{"not in the inventory", Options{}, "192.0.2.9", false, []string{"Host *\n"}, []string{"Host web-1"}},
		{"key and known hosts", Options{IdentityFile: "/k/id", KnownHosts: "/k/known hosts", ConnectTimeout: 3}, "web-1", false,
			[]string{"IdentityFile /k/id\n", "IdentitiesOnly yes", `UserKnownHostsFile "/k/known hosts"`, "ConnectTimeout 3"}, nil},
		{"trust on first use", Options{AcceptNewHostKeys: true}, "web-1", false, []string{"StrictHostKeyChecking accept-new"}, nil},
		{"no multiplexing", Options{NoMultiplex: true}, "web-1", false, nil, []string{"ControlMaster", "ControlPath"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(t.TempDir(), fleetBlocks(), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Render(tt.host, tt.fresh)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("config lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("config has %q:\n%s", w, got)
				}
			}
			if tt.o.NoMultiplex == (c.control != "") {
				t.Errorf("control directory %q with NoMultiplex %v", c.control, tt.o.NoMultiplex)
			}
			if err := c.Close(context.Background(), failRunner{t}); err != nil {
				t.Errorf("Close without masters: %v", err)
			}
		})
	}
}

// failRunner fails the test on any command.
type failRunner struct{ t *testing.T }

func (f failRunner) Run(_ context.Context, c process.Command) ([]byte, error) {
	f.t.Errorf("unexpected command %q", c.Args)
	return nil, nil
}

// TestResolveAgreesWithSSH checks Resolve against what `ssh -G` makes of
// the same host file, for each host and setting Resolve reads.
func TestResolveAgreesWithSSH(t *testing.T) {
	testenv.RequireTools(t, "ssh")
	tests := []struct {
		name, host, port string
		o                Options
	}{
		{"direct", "web-1", "", Options{}},
		{"port and jump", "eu-1", "", Options{KnownHosts: "/k/known_hosts"}},
		{"token in HostName, a jump entry's port", "bastion", "2200", Options{AcceptNewHostKeys: true}},
		{"HostKeyAlias, strict in hive.nix over accept-new", "outer", "", Options{AcceptNewHostKeys: true}},
		{"not in the inventory", "192.0.2.9", "", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(t.TempDir(), fleetBlocks(), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background(), failRunner{t})
			file, err := c.File(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"ssh", "-G", "-F", file}
			if tt.port != "" {
				args = append(args, "-p", tt.port)
			}
			out, err := (&process.Exec{}).Run(context.Background(), process.Command{Args: append(args, tt.host)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.Resolve(tt.host, tt.port), parseG(out); !reflect.DeepEqual(got, want) {
				t.Errorf("Resolve = %+v\nssh -G  = %+v", got, want)
			}
		})
	}
}

// parseG reads the settings Resolve computes from `ssh -G` output.
func parseG(out []byte) Target {
	var t Target
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "hostname":
			t.HostName = value
		case "port":
			t.Port = value
		case "hostkeyalias":
			t.KeyAlias = value
		case "proxyjump":
			t.ProxyJump = jumps(value)
		case "stricthostkeychecking":
			t.StrictHostKeyChecking = map[string]string{"true": "yes", "false": "no"}[value]
			if t.StrictHostKeyChecking == "" {
				t.StrictHostKeyChecking = value
			}
		case "userknownhostsfile", "globalknownhostsfile":
			t.KnownHostsFiles = append(t.KnownHostsFiles, strings.Fields(value)...)
		}
	}
	return t
}

func TestCommands(t *testing.T) {
	c, err := New(t.TempDir(), fleetBlocks(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background(), failRunner{t})
	file, _ := c.File("web-1")
	fresh, _ := c.FreshFile("web-1")
	if file == fresh {
		t.Fatalf("File and FreshFile are both %s", file)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v", err, st.Mode())
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"Command", c.Command("web-1", "sh", "-c", "echo $1", "x y"), []string{"ssh", "-F", file, "-o", "LogLevel=ERROR", "web-1", "--", `sh -c 'echo $1' 'x y'`}},
		{"FreshCommand", c.FreshCommand("web-1", "true"), []string{"ssh", "-F", fresh, "-o", "LogLevel=ERROR", "web-1", "--", "true"}},
		{"NixEnv", c.NixEnv("root@web-1"), []string{"NIX_SSHOPTS=-F " + file}},
		{"ForwardArgs", c.ForwardArgs("web-1", "localhost:80"), []string{"ssh", "-F", file, "-o", "LogLevel=ERROR", "-W", "localhost:80", "web-1"}},
		{"one file", (&Config{Path: "/c"}).Command("h", "true"), []string{"ssh", "-F", "/c", "-o", "LogLevel=ERROR", "h", "--", "true"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestURLHostAndSplitJump(t *testing.T) {
	tests := []struct{ in, alias, port string }{
		{"bastion", "bastion", ""},
		{"root@bastion", "bastion", ""},
		{"root@bastion:2200", "bastion", "2200"},
		{"ssh://root@bastion:2200", "bastion", "2200"},
		{"[fe80::1]:22", "fe80::1", "22"},
		{"fe80::1", "fe80::1", ""},
	}
	for _, tt := range tests {
		if a, p := SplitJump(tt.in); a != tt.alias || p != tt.port {
			t.Errorf("SplitJump(%q) = %q, %q; want %q, %q", tt.in, a, p, tt.alias, tt.port)
		}
	}
	for in, want := range map[string]string{"ssh-ng://cache-eu": "cache-eu", "ssh://root@cache:22?compress=true": "cache", "s3://bucket": "", "file:///x": ""} {
		if got := URLHost(in); got != want {
			t.Errorf("URLHost(%q) = %q, want %q", in, got, want)
		}
	}
}
