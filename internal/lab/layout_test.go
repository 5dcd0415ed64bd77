package lab

import (
	"context"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process/processtest"
)

func TestNewRejectsBadSpecBeforeMakingAnything(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no hosts", Spec{}, "no hosts"},
		{"duplicate name", Spec{Hosts: []HostSpec{{Name: "web"}, {Name: "web"}}}, "used twice"},
		{"bastion without site", Spec{Hosts: []HostSpec{{Name: "gw", Bastion: true}}}, "needs a Site"},
		{"bad host name", Spec{Hosts: []HostSpec{{Name: "Web_1"}}}, "name \"Web_1\""},
		{"name starting with dash", Spec{Hosts: []HostSpec{{Name: "-x"}}}, "name \"-x\""},
		{"bad site name", Spec{Hosts: []HostSpec{{Name: "a", Site: "dc 1"}}}, "site name"},
		{"too many hosts", Spec{Hosts: manyHosts(65, "")}, "at most 64"},
		{"too many on a site", Spec{Hosts: manyHosts(31, "dc")}, "at most 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := processtest.New(t)
			l, err := New(context.Background(), f, tt.spec)
			if err == nil {
				l.Close(context.Background())
				t.Fatal("New accepted the spec")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to mention %q", err, tt.want)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("New ran %d commands before rejecting the spec, first %s", len(calls), calls[0])
			}
		})
	}
}

func manyHosts(n int, site string) []HostSpec {
	var hs []HostSpec
	for i := range n {
		hs = append(hs, HostSpec{Name: "h" + strings.Repeat("x", i%5) + string(rune('a'+i/26)) + string(rune('a'+i%26)), Site: site})
	}
	return hs
}

func TestLayout(t *testing.T) {
	spec := Spec{Hosts: []HostSpec{
		{Name: "web-1"},
		{Name: "gw", Site: "dc", Bastion: true},
		{Name: "app", Site: "dc"},
		{Name: "edge", Site: "edge"},
		{Name: "web-2"},
	}}
	if err := validate(spec); err != nil {
		t.Fatal(err)
	}
	hosts, sites := layout(spec, 7, "/tmp/lab")
	type want struct{ addr, siteAddr, ns, uplink, runner, siteNS, siteLink string }
	wants := map[string]want{
		"web-1": {"10.231.7.2", "", "nhl-7-web-1", "nhl7u0", "10.231.7.1", "", ""},
		"gw":    {"10.231.7.6", "10.232.7.1", "nhl-7-gw", "nhl7u1", "10.231.7.5", "nhl-7-site.dc", "nhl7s1"},
		"app":   {"10.232.7.2", "10.232.7.2", "nhl-7-app", "", "", "nhl-7-site.dc", "nhl7s2"},
		"edge":  {"10.232.7.33", "10.232.7.33", "nhl-7-edge", "", "", "nhl-7-site.edge", "nhl7s3"},
		"web-2": {"10.231.7.18", "", "nhl-7-web-2", "nhl7u4", "10.231.7.17", "", ""},
	}
	for _, h := range hosts {
		got := want{h.Addr, h.SiteAddr, h.Namespace, h.Uplink, h.runnerAddr, h.siteNamespace, h.siteLink}
		if got != wants[h.Name] {
			t.Errorf("host %s: got %+v, want %+v", h.Name, got, wants[h.Name])
		}
		if h.Dir != "/tmp/lab/hosts/"+h.Name {
			t.Errorf("host %s: dir %s", h.Name, h.Dir)
		}
		if len(h.Uplink) > 15 || len(h.siteLink) > 15 {
			t.Errorf("host %s: link names %q %q longer than 15", h.Name, h.Uplink, h.siteLink)
		}
	}
	if len(sites) != 2 || sites[0].namespace != "nhl-7-site.dc" || sites[1].namespace != "nhl-7-site.edge" {
		t.Errorf("sites = %+v", sites)
	}
	// The longest names a lab makes still fit in 15 characters.
	big, _ := layout(Spec{Hosts: manyHosts(64, "")}, 255, "/tmp/lab")
	if n := big[63].Uplink; n != "nhl255u63" {
		t.Errorf("last uplink of slot 255 = %q", n)
	}
}

func TestSSHDConfigAndKnownHosts(t *testing.T) {
	hosts, _ := layout(Spec{Hosts: []HostSpec{{Name: "gw", Site: "dc", Bastion: true}, {Name: "app", Site: "dc"}}}, 0, "/tmp/lab")
	hosts[0].HostKey = "ssh-ed25519 AAAAgw"
	hosts[1].HostKey = "ssh-ed25519 AAAAapp"
	cfg := sshdConfig(hosts[0], "/tmp/lab/authorized_keys")
	for _, line := range []string{
		"ListenAddress 10.231.0.2\n", "ListenAddress 10.232.0.1\n",
		"HostKey /tmp/lab/hosts/gw/ssh_host_ed25519_key\n",
		"PidFile /tmp/lab/hosts/gw/sshd.pid\n",
		"AuthorizedKeysFile /tmp/lab/authorized_keys\n",
		"PermitRootLogin prohibit-password\n", "UsePAM no\n", "StrictModes no\n",
	} {
		if !strings.Contains(cfg, line) {
			t.Errorf("sshd_config lacks %q:\n%s", line, cfg)
		}
	}
	got := knownHosts(hosts)
	want := "10.231.0.2,10.232.0.1 ssh-ed25519 AAAAgw\n10.232.0.2 ssh-ed25519 AAAAapp\n"
	if got != want {
		t.Errorf("known_hosts = %q, want %q", got, want)
	}
}

func TestParseTxBytes(t *testing.T) {
	// Recorded from iproute2 6.1: ip -n NS -json -stats link show dev IF.
	out := `[{"ifindex":3,"link_index":3,"ifname":"nhl0s2","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"br0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"f2:f8:30:92:e4:9f","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"stats64":{"rx":{"bytes":1234,"packets":10,"errors":0,"dropped":0,"over_errors":0,"multicast":0},"tx":{"bytes":5678901234,"packets":20,"errors":0,"dropped":0,"carrier_errors":0,"collisions":0}}}]`
	n, err := parseTxBytes([]byte(out))
	if err != nil || n != 5678901234 {
		t.Errorf("parseTxBytes = %d, %v", n, err)
	}
	if _, err := parseTxBytes([]byte(`[]`)); err == nil {
		t.Error("no link: no error")
	}
}
