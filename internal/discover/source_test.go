package discover

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeSources(t *testing.T) {
	data := `{
	  "prod": {"ec2": {"region": "eu-west-1", "filters": {"tag:env": ["prod"]}}, "terraform": null,
	           "tagPrefix": null, "address": null, "name": null,
	           "ssh": {"User": "root", "ProxyJump": "bastion", "Port": 2222, "ForwardAgent": false}},
	  "infra": {"ec2": null, "terraform": {"state": "/srv/infra/terraform.tfstate"},
	            "tagPrefix": "hive:", "address": "dns", "name": "hostname", "ssh": {}}
	}`
	got, err := DecodeSources([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Name: "infra", Terraform: &Terraform{State: "/srv/infra/terraform.tfstate"}, TagPrefix: "hive:", Address: "dns", NameTag: "hostname"},
		{Name: "prod", EC2: &EC2{Region: "eu-west-1", Filters: map[string][]string{"tag:env": {"prod"}}},
			TagPrefix: "nix-hive-", Address: "private", NameTag: "Name",
			SSH: map[string]string{"User": "root", "ProxyJump": "bastion", "Port": "2222", "ForwardAgent": "no"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if got[1].String() != "discover.prod (ec2, eu-west-1)" || got[0].String() != "discover.infra (terraform, /srv/infra/terraform.tfstate)" {
		t.Errorf("String() = %q, %q", got[1], got[0])
	}
}

func TestDecodeSourcesErrors(t *testing.T) {
	tests := []struct{ data, want string }{
		{`{"prod": {"ec2": {"region": "eu-west-1"}, "adress": "public"}}`, `discover.prod: json: unknown field "adress"`},
		{`{"prod": {"ec2": {"region": "eu-west-1", "filter": {}}}}`, `discover.prod: json: unknown field "filter"`},
		{`{"prod": {"ssh": {"User": ["root"]}}}`, `discover.prod: ssh.User: expected a string, integer or boolean`},
		{`{"prod": {"ssh": {"Port": 1.5}}}`, `discover.prod: ssh.Port: expected a string, integer or boolean`},
		{`[]`, `read the discover sources`},
	}
	for _, tt := range tests {
		_, err := DecodeSources([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeSources(%s) = %v, want an error saying %q", tt.data, err, tt.want)
		}
	}
}

func validEC2() Source {
	return Source{Name: "prod", EC2: &EC2{Region: "eu-west-1", Filters: map[string][]string{"tag:env": {"prod"}}},
		TagPrefix: DefaultTagPrefix, Address: DefaultAddress, NameTag: DefaultNameTag,
		SSH: map[string]string{"User": "root", "ProxyJump": "bastion"}}
}

func TestValidate(t *testing.T) {
	tf := func() Source {
		s := validEC2()
		s.EC2, s.Terraform = nil, &Terraform{State: "/srv/terraform.tfstate"}
		return s
	}
	tests := []struct {
		name   string
		change func(s *Source)
		want   []string // each a line of the error; none for a valid source
	}{
		{"valid ec2", func(s *Source) {}, nil},
		{"valid terraform", func(s *Source) { *s = tf() }, nil},
		{"empty prefix", func(s *Source) { s.TagPrefix = "" }, nil},
		{"bad address", func(s *Source) { s.Address = "x" },
			[]string{`discover.prod.address: "x" is not one of private, public, dns`}},
		{"neither", func(s *Source) { s.EC2 = nil }, []string{"discover.prod: set one of ec2 or terraform"}},
		{"both", func(s *Source) { s.Terraform = tf().Terraform }, []string{"discover.prod: set only one of ec2 and terraform"}},
		{"no region", func(s *Source) { s.EC2.Region = "" }, []string{`discover.prod.ec2.region: "" is not an AWS region`}},
		{"region with a newline", func(s *Source) { s.EC2.Region = "eu-west-1\nx" }, []string{`discover.prod.ec2.region: "eu-west-1\nx"`}},
		{"state filter", func(s *Source) { s.EC2.Filters["instance-state-name"] = []string{"stopped"} },
			[]string{"discover.prod.ec2.filters.instance-state-name: nix-hive discovers running instances only"}},
		{"filter without values", func(s *Source) { s.EC2.Filters["tag:role"] = nil },
			[]string{"discover.prod.ec2.filters.tag:role: give at least one value"}},
		{"relative state", func(s *Source) { *s = tf(); s.Terraform.State = "terraform.tfstate" },
			[]string{`discover.prod.terraform.state: "terraform.tfstate" is not an absolute path`}},
		{"bad prefix", func(s *Source) { s.TagPrefix = "nix hive" }, []string{`discover.prod.tagPrefix: "nix hive"`}},
		{"empty name tag", func(s *Source) { s.NameTag = "" }, []string{`discover.prod.name: "" is not a tag name`}},
		{"HostName in ssh", func(s *Source) { s.SSH["hostname"] = "10.0.0.1" },
			[]string{"discover.prod.ssh.HostName: discovery sets it from each machine's private address"}},
		{"ssh value with a newline", func(s *Source) { s.SSH["User"] = "root\n  ProxyCommand evil" },
			[]string{"discover.prod.ssh.User: the value must be non-empty, without a newline or a double quote"}},
		{"ssh keyword", func(s *Source) { s.SSH["Proxy Command"] = "x" }, []string{`discover.prod.ssh: "Proxy Command" is not an ssh_config keyword`}},
		{"bad name and two problems", func(s *Source) { s.Name = "-p"; s.Address = "" },
			[]string{"discover.-p: the name must match", `discover.-p.address: "" is not one of private, public, dns`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validEC2()
			tt.change(&s)
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Validate() = %q, want %d problems", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}
