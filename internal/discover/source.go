// Package discover turns machines found in the infrastructure (EC2, a
// Terraform state) into nix-hive instances.
//
// A hive's discover.<name> entry becomes a [Source]; a [Reader] lists the
// source's machines; [Map] maps each machine to an [Instance] by its tags,
// treating every value read from the infrastructure as untrusted input: a
// machine with a value that could reach an ssh config or a command line
// in a form nix-hive did not intend is left out with a [Warning]. [Discover]
// does both for every source of a run. The readers live in the ec2 and
// terraform subpackages; this package depends on no other part of nix-hive.
package discover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Defaults for a [Source]'s optional fields.
const (
	DefaultTagPrefix = "nix-hive-"
	DefaultAddress   = AddressPrivate
	DefaultNameTag   = "Name"
)

// The addresses a [Source] can give its instances' ssh HostName.
const (
	// AddressPrivate is the machine's private IP address.
	AddressPrivate = "private"
	// AddressPublic is the machine's public IP address.
	AddressPublic = "public"
	// AddressDNS is the machine's public DNS name, or its private DNS name
	// when it has no public one.
	AddressDNS = "dns"
)

// Source is one discover.<name> entry of a hive, as the inventory
// evaluation prints it:
//
//	{"ec2": {"region": "eu-west-1", "filters": {"tag:env": ["prod"]}} | null,
//	 "terraform": {"state": "/abs/terraform.tfstate"} | null,
//	 "tagPrefix": "nix-hive-", "address": "private", "name": "Name",
//	 "ssh": {"User": "root", "ProxyJump": "bastion"}}
//
// Decoding sets the defaults of absent or null fields; [Source.Validate]
// checks the rest.
type Source struct {
	// Name is the entry's attribute name ("prod" in discover.prod).
	Name string `json:"-"`
	// EC2 is set when the source lists running EC2 instances.
	EC2 *EC2 `json:"ec2"`
	// Terraform is set when the source reads a Terraform state.
	Terraform *Terraform `json:"terraform"`
	// TagPrefix starts the tags nix-hive reads: <prefix>system,
	// <prefix>store, <prefix>tags, <prefix>environment, <prefix>url.
	TagPrefix string `json:"tagPrefix"`
	// Address is AddressPrivate, AddressPublic or AddressDNS: which of the
	// machine's addresses becomes its ssh HostName.
	Address string `json:"address"`
	// NameTag is the tag whose value names an instance; without it the
	// machine's own name (Terraform) or id is used.
	NameTag string `json:"name"`
	// SSH holds ssh_config options added to every instance of the source.
	// Decoding accepts strings, integers and booleans (as yes/no).
	SSH map[string]string `json:"ssh"`
}

// EC2 selects running EC2 instances.
type EC2 struct {
	// Region is the AWS region, e.g. "eu-west-1".
	Region string `json:"region"`
	// Filters are DescribeInstances filters ("tag:env": ["prod"]); nix-hive
	// adds instance-state-name=running.
	Filters map[string][]string `json:"filters"`
}

// Terraform reads machines from a Terraform state.
type Terraform struct {
	// State is the absolute path of a v4 state file or of the output of
	// `terraform show -json`.
	State string `json:"state"`
}

// UnmarshalJSON decodes a source and sets the defaults of absent or null
// fields. Unknown fields are errors.
func (s *Source) UnmarshalJSON(data []byte) error {
	var raw struct {
		EC2       *EC2                       `json:"ec2"`
		Terraform *Terraform                 `json:"terraform"`
		TagPrefix *string                    `json:"tagPrefix"`
		Address   *string                    `json:"address"`
		NameTag   *string                    `json:"name"`
		SSH       map[string]json.RawMessage `json:"ssh"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*s = Source{Name: s.Name, EC2: raw.EC2, Terraform: raw.Terraform,
		TagPrefix: DefaultTagPrefix, Address: DefaultAddress, NameTag: DefaultNameTag}
	if raw.TagPrefix != nil {
		s.TagPrefix = *raw.TagPrefix
	}
	if raw.Address != nil {
		s.Address = *raw.Address
	}
	if raw.NameTag != nil {
		s.NameTag = *raw.NameTag
	}
	if len(raw.SSH) > 0 {
		s.SSH = make(map[string]string, len(raw.SSH))
	}
	for k, v := range raw.SSH {
		value, err := sshValue(v)
		if err != nil {
			return fmt.Errorf("ssh.%s: %w", k, err)
		}
		s.SSH[k] = value
	}
	return nil
}

// sshValue reads an ssh_config value written as a string, an integer or a
// boolean.
func sshValue(v json.RawMessage) (string, error) {
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return "", err
	}
	switch x := x.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "yes", nil
		}
		return "no", nil
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10), nil
		}
	}
	return "", fmt.Errorf("expected a string, integer or boolean, got %s", v)
}

// DecodeSources decodes the inventory's discover attribute set
// ({"prod": {...}, ...}) into sources sorted by name, with defaults set.
// It does not validate them.
func DecodeSources(data []byte) ([]Source, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("read the discover sources: %w", err)
	}
	sources := make([]Source, 0, len(raw))
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		src := Source{Name: name}
		if err := json.Unmarshal(raw[name], &src); err != nil {
			return nil, fmt.Errorf("discover.%s: %w", name, err)
		}
		sources = append(sources, src)
	}
	return sources, nil
}

// Kind is "ec2" or "terraform", whichever the source sets ("" if neither).
func (s Source) Kind() string {
	switch {
	case s.EC2 != nil:
		return "ec2"
	case s.Terraform != nil:
		return "terraform"
	}
	return ""
}

// String names the source for messages: "discover.prod (ec2, eu-west-1)"
// or "discover.infra (terraform, /srv/infra/terraform.tfstate)".
func (s Source) String() string {
	switch {
	case s.EC2 != nil:
		return fmt.Sprintf("discover.%s (ec2, %s)", s.Name, s.EC2.Region)
	case s.Terraform != nil:
		return fmt.Sprintf("discover.%s (terraform, %s)", s.Name, s.Terraform.State)
	}
	return "discover." + s.Name
}

// Validate checks the source as written in hive.nix. Each problem names
// its field ("discover.prod.address: ..."); all are joined in one error.
func (s Source) Validate() error {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("discover.%s%s: %s", s.Name, field, fmt.Sprintf(format, args...)))
	}
	if !ValidName(s.Name) {
		bad("", "the name must match [A-Za-z0-9][A-Za-z0-9._-]*; rename it")
	}
	switch {
	case s.EC2 == nil && s.Terraform == nil:
		bad("", "set one of ec2 or terraform")
	case s.EC2 != nil && s.Terraform != nil:
		bad("", "set only one of ec2 and terraform; write two discover entries to read both")
	}
	if s.EC2 != nil {
		if !validRegion(s.EC2.Region) {
			bad(".ec2.region", "%q is not an AWS region; set it to one such as \"eu-west-1\"", s.EC2.Region)
		}
		for _, name := range slices.Sorted(maps.Keys(s.EC2.Filters)) {
			switch {
			case name == "" || hasControl(name):
				bad(".ec2.filters", "%q is not a filter name (e.g. \"tag:env\")", name)
			case name == "instance-state-name":
				bad(".ec2.filters."+name, "nix-hive discovers running instances only; remove this filter")
			case len(s.EC2.Filters[name]) == 0:
				bad(".ec2.filters."+name, "give at least one value")
			}
		}
	}
	if s.Terraform != nil && !filepath.IsAbs(s.Terraform.State) {
		bad(".terraform.state", "%q is not an absolute path; write it as a Nix path (./terraform.tfstate)", s.Terraform.State)
	}
	if s.TagPrefix != "" && !ValidName(s.TagPrefix) {
		bad(".tagPrefix", "%q must match [A-Za-z0-9][A-Za-z0-9._-]*", s.TagPrefix)
	}
	switch s.Address {
	case AddressPrivate, AddressPublic, AddressDNS:
	default:
		bad(".address", "%q is not one of private, public, dns", s.Address)
	}
	if s.NameTag == "" || hasControl(s.NameTag) {
		bad(".name", "%q is not a tag name", s.NameTag)
	}
	for _, k := range slices.Sorted(maps.Keys(s.SSH)) {
		v := s.SSH[k]
		switch {
		case !sshKeyword(k):
			bad(".ssh", "%q is not an ssh_config keyword (see man ssh_config)", k)
		case strings.EqualFold(k, "HostName"):
			bad(".ssh.HostName", "discovery sets it from each machine's %s address; remove it (address picks which)", s.Address)
		case v == "" || strings.ContainsAny(v, "\"") || hasControl(v):
			bad(".ssh."+k, "the value must be non-empty, without a newline or a double quote")
		}
	}
	errs := make([]error, 0, len(problems))
	for _, p := range problems {
		errs = append(errs, errors.New(p))
	}
	return errors.Join(errs...)
}

// validRegion accepts AWS region names: lowercase letters, digits and
// hyphens ("eu-west-1", "us-gov-west-1").
func validRegion(r string) bool {
	if r == "" || len(r) > 63 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// sshKeyword accepts what ssh_config keywords look like.
func sshKeyword(k string) bool {
	if k == "" || !isLetter(rune(k[0])) {
		return false
	}
	for _, c := range k {
		if !isLetter(c) && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isLetter(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
