package discover

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	systems = map[string]bool{"web": true, "db": true}
	stores  = map[string]bool{"eu": true}
)

func machine(id string, tags ...string) Machine {
	m := Machine{ID: id, PrivateIP: "10.0.0.1", PublicIP: "192.0.2.1", PrivateDNS: "ip-10-0-0-1.internal",
		PublicDNS: "web.example.com", State: "running", Tags: map[string]string{}}
	for i := 0; i+1 < len(tags); i += 2 {
		m.Tags[tags[i]] = tags[i+1]
	}
	return m
}

func TestMapInstance(t *testing.T) {
	src := validEC2()
	m := machine("i-1", "Name", "web-1", "nix-hive-system", "web", "nix-hive-store", "eu",
		"nix-hive-tags", " eu ,frontend,,eu", "nix-hive-environment", "staging west", "nix-hive-url", "https://web-1.example.com/x")
	got, warnings := Map(src, []Machine{m}, systems, stores)
	want := []Instance{{Name: "web-1", System: "web", Store: "eu", Tags: []string{"eu", "frontend"},
		SSH:         map[string]string{"User": "root", "ProxyJump": "bastion", "HostName": "10.0.0.1"},
		Environment: "staging west", URL: "https://web-1.example.com/x", Source: "prod", MachineID: "i-1"}}
	if diff := cmp.Diff(want, got); diff != "" || len(warnings) != 0 {
		t.Errorf("instances (-want +got):\n%s\nwarnings %v", diff, warnings)
	}
	if src.SSH["HostName"] != "" {
		t.Error("Map changed the source's ssh options")
	}
}

func TestMapDefaultsAndChoices(t *testing.T) {
	tests := []struct {
		name     string
		change   func(s *Source, m *Machine)
		host     string
		instName string
	}{
		{"private address", func(s *Source, m *Machine) {}, "10.0.0.1", "web-1"},
		{"public address", func(s *Source, m *Machine) { s.Address = AddressPublic }, "192.0.2.1", "web-1"},
		{"public dns", func(s *Source, m *Machine) { s.Address = AddressDNS }, "web.example.com", "web-1"},
		{"private dns without a public one", func(s *Source, m *Machine) { s.Address = AddressDNS; m.PublicDNS = "" }, "ip-10-0-0-1.internal", "web-1"},
		{"ipv6", func(s *Source, m *Machine) { m.PrivateIP = "2001:db8::11" }, "2001:db8::11", "web-1"},
		{"name from another tag", func(s *Source, m *Machine) { s.NameTag = "hostname"; m.Tags["hostname"] = "h-1" }, "10.0.0.1", "h-1"},
		{"machine name without the name tag", func(s *Source, m *Machine) { delete(m.Tags, "Name"); m.Name = "server-1" }, "10.0.0.1", "server-1"},
		{"id without a name", func(s *Source, m *Machine) { delete(m.Tags, "Name") }, "10.0.0.1", "i-0abc"},
		{"empty name tag", func(s *Source, m *Machine) { m.Tags["Name"] = "" }, "10.0.0.1", "i-0abc"},
		{"another prefix", func(s *Source, m *Machine) {
			s.TagPrefix = "hive."
			m.Tags = map[string]string{"Name": "web-1", "hive.system": "db"}
		}, "10.0.0.1", "web-1"},
		{"no prefix", func(s *Source, m *Machine) {
			s.TagPrefix = ""
			m.Tags = map[string]string{"Name": "web-1", "system": "db"}
		}, "10.0.0.1", "web-1"},
		{"state unknown", func(s *Source, m *Machine) { m.State = "" }, "10.0.0.1", "web-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, m := validEC2(), machine("i-0abc", "Name", "web-1", "nix-hive-system", "web")
			tt.change(&src, &m)
			got, warnings := Map(src, []Machine{m}, systems, stores)
			if len(got) != 1 || len(warnings) != 0 {
				t.Fatalf("instances %+v, warnings %v; want one instance", got, warnings)
			}
			i := got[0]
			if i.SSH["HostName"] != tt.host || i.Name != tt.instName {
				t.Errorf("instance %q at %q, want %q at %q", i.Name, i.SSH["HostName"], tt.instName, tt.host)
			}
			if i.Environment != "production" || i.Tags == nil || i.Store != "" || i.URL != "" {
				t.Errorf("instance %+v lacks the defaults (production, no tags, no store, no url)", i)
			}
		})
	}
}

// TestMapUntrusted feeds values an attacker who may tag machines could
// write; each must leave its machine out with a warning naming the field.
func TestMapUntrusted(t *testing.T) {
	tests := []struct {
		name  string
		tag   string // the tag set to value, or "address" for the private IP
		value string
		field string
	}{
		{"ssh option in the name", "Name", "web\n  ProxyCommand evil", "tag Name"},
		{"carriage return in the name", "Name", "web\rx", "tag Name"},
		{"quote in the name", "Name", `web"1`, "tag Name"},
		{"space in the name", "Name", "web 1", "tag Name"},
		{"option as the name", "Name", "-oProxyCommand=evil", "tag Name"},
		{"slash in the name", "Name", "../web", "tag Name"},
		{"unicode in the name", "Name", "wéb", "tag Name"},
		{"long name", "Name", strings.Repeat("a", 256), "tag Name"},
		{"no system", "nix-hive-system", "", "tag nix-hive-system"},
		{"unknown system", "nix-hive-system", "mail", "tag nix-hive-system"},
		{"newline in the system", "nix-hive-system", "web\nProxyCommand evil", "tag nix-hive-system"},
		{"unknown store", "nix-hive-store", "us", "tag nix-hive-store"},
		{"option as the store", "nix-hive-store", "-eu", "tag nix-hive-store"},
		{"quote in the tags", "nix-hive-tags", `eu,"x`, "tag nix-hive-tags"},
		{"space in a tag", "nix-hive-tags", "eu west", "tag nix-hive-tags"},
		{"newline in the environment", "nix-hive-environment", "prod\nuction", "tag nix-hive-environment"},
		{"empty environment", "nix-hive-environment", "", "tag nix-hive-environment"},
		{"long environment", "nix-hive-environment", strings.Repeat("e", 256), "tag nix-hive-environment"},
		{"javascript url", "nix-hive-url", "javascript:alert(1)", "tag nix-hive-url"},
		{"url without a host", "nix-hive-url", "https:///x", "tag nix-hive-url"},
		{"url with a quote", "nix-hive-url", `https://x.example.com/"`, "tag nix-hive-url"},
		{"url with a newline", "nix-hive-url", "https://x.example.com/\nx", "tag nix-hive-url"},
		{"url with credentials", "nix-hive-url", "https://u:p@x.example.com/", "tag nix-hive-url"},
		{"ssh option in the address", "address", "10.0.0.1 -oProxyCommand=evil", "address"},
		{"newline in the address", "address", "10.0.0.1\n  ProxyCommand evil", "address"},
		{"option as the address", "address", "-oProxyCommand=evil", "address"},
		{"leading hyphen in a label", "address", "-web.example.com", "address"},
		{"trailing hyphen in a label", "address", "web-.example.com", "address"},
		{"empty label", "address", "web..example.com", "address"},
		{"long label", "address", strings.Repeat("a", 64) + ".example.com", "address"},
		{"underscore", "address", "web_1.example.com", "address"},
		{"zone", "address", "fe80::1%eth0", "address"},
		{"no address", "address", "", "address"},
		{"id with a newline", "id", "i-1\nx", "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := machine("i-0abc", "Name", "web-1", "nix-hive-system", "web")
			switch tt.tag {
			case "address":
				m.PrivateIP = tt.value
			case "id":
				m.ID = tt.value
			default:
				m.Tags[tt.tag] = tt.value
			}
			ok := machine("i-0ok", "Name", "ok-1", "nix-hive-system", "db")
			got, warnings := Map(validEC2(), []Machine{m, ok}, systems, stores)
			if len(got) != 1 || got[0].Name != "ok-1" {
				t.Errorf("instances %+v, want ok-1 alone", got)
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %v, want one", warnings)
			}
			w := warnings[0]
			if w.Source != "prod" || w.Machine != m.ID || w.Field != tt.field {
				t.Errorf("warning %+v, want source prod, machine %q, field %q", w, m.ID, tt.field)
			}
			if line := w.String(); strings.ContainsAny(line, "\n\r") || !strings.HasPrefix(line, "discover.prod: machine ") {
				t.Errorf("warning line %q: want one line naming the source and machine", line)
			}
		})
	}
}

func TestMapLeavesOutStoppedMachinesSilently(t *testing.T) {
	m := machine("i-1", "Name", "web-1", "nix-hive-system", "web")
	m.State = "stopped"
	got, warnings := Map(validEC2(), []Machine{m}, systems, stores)
	if len(got) != 0 || len(warnings) != 0 {
		t.Errorf("instances %v, warnings %v; want neither", got, warnings)
	}
}

func TestMapDuplicateNames(t *testing.T) {
	ms := []Machine{
		machine("i-1", "Name", "web-1", "nix-hive-system", "web"),
		machine("i-2", "Name", "web-2", "nix-hive-system", "web"),
		machine("i-3", "Name", "web-1", "nix-hive-system", "web"),
		machine("i-4", "Name", "web-1", "nix-hive-system", "db"),
	}
	got, warnings := Map(validEC2(), ms, systems, stores)
	if len(got) != 1 || got[0].Name != "web-2" {
		t.Errorf("instances %+v, want web-2 alone", got)
	}
	want := []string{
		`discover.prod: machine "i-1": name: the name "web-1" is also the name of machine "i-3" in discover.prod, "i-4" in discover.prod`,
		`discover.prod: machine "i-3": name: the name "web-1" is also the name of machine "i-1" in discover.prod, "i-4" in discover.prod`,
		`discover.prod: machine "i-4": name: the name "web-1" is also the name of machine "i-1" in discover.prod, "i-3" in discover.prod`,
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %v, want %d", warnings, len(want))
	}
	for i, w := range warnings {
		if !strings.HasPrefix(w.String(), want[i]) {
			t.Errorf("warning %q, want %q", w, want[i])
		}
	}
}

func TestClashes(t *testing.T) {
	discovered := []Instance{{Name: "web-1", Source: "prod", MachineID: "i-1"}, {Name: "web-9", Source: "prod", MachineID: "i-9"},
		{Name: "bastion", Source: "infra", MachineID: "42"}}
	tests := []struct {
		name  string
		taken map[string]string
		want  string
	}{
		{"no shared name", map[string]string{"db-1": "instances.db-1", "web-2": "instances.web-2"}, ""},
		{"an instance and an sshHosts entry", map[string]string{"web-1": "instances.web-1", "bastion": "sshHosts.bastion"},
			`discover.prod: machine "i-1" is named "web-1" like instances.web-1 in hive.nix; rename one of them` + "\n" +
				`discover.infra: machine "42" is named "bastion" like sshHosts.bastion in hive.nix; rename one of them`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Clashes(discovered, tt.taken)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Errorf("Clashes = %v, want\n%s", err, tt.want)
			}
		})
	}
}

func TestValidAddress(t *testing.T) {
	for _, ok := range []string{"10.0.0.1", "2001:db8::1", "::1", "web-1.example.com", "localhost", "a", "ip-10-0-0-1.eu-west-1.compute.internal",
		strings.Repeat("a", 63) + ".example.com"} {
		if !ValidAddress(ok) {
			t.Errorf("ValidAddress(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", ".", "example.com.", "-a", "a-", "a b", "a\n", "a;b", "a'b", `a"b`, "[::1]", "10.0.0.1:22",
		"user@host", "fe80::1%eth0", strings.Repeat("a.", 127) + "aa"} {
		if ValidAddress(bad) {
			t.Errorf("ValidAddress(%q) = true", bad)
		}
	}
}
