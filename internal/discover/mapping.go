package discover

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Machine is what a [Reader] found in the infrastructure. Every field is
// untrusted: whoever may tag a machine is not necessarily someone who may
// deploy.
type Machine struct {
	// ID is the infrastructure's id: an EC2 instance id, a Terraform
	// resource's id.
	ID string
	// Address is where the machine is described, when that is more than
	// its id: the Terraform resource address (module.app.aws_instance.web[0]).
	Address string
	// Name is the name the infrastructure itself gives the machine
	// (hcloud_server.name, ...), used when the source's name tag is
	// absent; empty for EC2, whose name is its Name tag.
	Name string
	// Tags are the machine's tags or labels.
	Tags map[string]string
	// PrivateIP, PublicIP, PrivateDNS and PublicDNS are its addresses;
	// empty when it has none of that kind.
	PrivateIP, PublicIP, PrivateDNS, PublicDNS string
	// State is "running", another state ("stopped", "off", ...), or empty
	// when the infrastructure does not say.
	State string
}

// Instance is a discovered instance: the fields of a hive.nix instance
// plus where it came from.
type Instance struct {
	// Name names the instance, as an attribute name of instances in
	// hive.nix would.
	Name string `json:"name"`
	// System names a system of the hive.
	System string `json:"system"`
	// Store names a store of the hive, or is empty.
	Store string `json:"store,omitempty"`
	// Tags select the instance with --on @tag; never nil.
	Tags []string `json:"tags"`
	// SSH holds the source's ssh options plus HostName, the machine's
	// address of the source's kind.
	SSH map[string]string `json:"ssh"`
	// Environment is the GitHub environment, "production" by default.
	Environment string `json:"environment"`
	// URL is the deployment's environment URL, or empty.
	URL string `json:"url,omitempty"`
	// Source is the name of the discover entry that found it.
	Source string `json:"source"`
	// MachineID is the machine's id in the infrastructure.
	MachineID string `json:"machineId"`
}

// DefaultEnvironment is the environment of an instance without a
// <prefix>environment tag, as in hive.nix.
const DefaultEnvironment = "production"

// Warning is a machine left out of the deployment, and why.
type Warning struct {
	// Source is the discover entry's name.
	Source string `json:"source"`
	// Machine is the machine's id (quoted when printed: it is untrusted).
	Machine string `json:"machine"`
	// Address is the machine's Terraform resource address, or empty.
	Address string `json:"address,omitempty"`
	// Field is what was wrong: a tag ("tag nix-hive-system"), "address",
	// "name", "id".
	Field string `json:"field"`
	// Message says what is wrong with it and what to do.
	Message string `json:"message"`
}

// String formats the warning for a log line, quoting every value that came
// from the infrastructure:
// `discover.prod: machine "i-0abc": tag nix-hive-system: missing; ...`.
func (w Warning) String() string {
	where := fmt.Sprintf("machine %q", w.Machine)
	if w.Address != "" {
		where += fmt.Sprintf(" (%s)", quoteIfNeeded(w.Address))
	}
	return fmt.Sprintf("discover.%s: %s: %s: %s; not deployed", w.Source, where, w.Field, w.Message)
}

func quoteIfNeeded(s string) string {
	if hasControl(s) || strings.ContainsAny(s, "\" ") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// Map maps a source's machines to instances. It is pure: systems and
// stores are the names the hive defines.
//
// A machine that is not running (State set and not "running") is left out
// silently. A machine whose system tag is missing or names an unknown
// system, whose store tag names an unknown store, or any of whose values
// fails the checks for untrusted input (see [ValidName], [ValidAddress],
// [ValidURL], [ValidEnvironment]) is left out with a [Warning]; so are all
// machines that would share a name. Instances come back sorted by name.
func Map(src Source, machines []Machine, systems, stores map[string]bool) ([]Instance, []Warning) {
	var instances []Instance
	var warnings []Warning
	for _, m := range machines {
		if m.State != "" && m.State != "running" {
			continue
		}
		inst, w := mapOne(src, m, systems, stores)
		if w != nil {
			warnings = append(warnings, *w)
			continue
		}
		instances = append(instances, inst)
	}
	instances, dups := dropDuplicates(instances)
	warnings = append(warnings, dups...)
	return instances, warnings
}

// mapOne maps one machine, or says why it cannot be deployed.
func mapOne(src Source, m Machine, systems, stores map[string]bool) (Instance, *Warning) {
	warn := func(field, format string, args ...any) (Instance, *Warning) {
		return Instance{}, &Warning{Source: src.Name, Machine: m.ID, Address: m.Address, Field: field,
			Message: fmt.Sprintf(format, args...)}
	}
	if m.ID == "" || len(m.ID) > 1024 || hasControl(m.ID) {
		return warn("id", "the machine id is empty, too long or holds control characters")
	}

	name, nameFrom := m.ID, "the machine id"
	if v, ok := m.Tags[src.NameTag]; ok && v != "" {
		name, nameFrom = v, "tag "+src.NameTag
	} else if m.Name != "" {
		name, nameFrom = m.Name, "the machine's name"
	}
	if !ValidName(name) {
		return warn(nameFrom, "%q is not an instance name: it must match [A-Za-z0-9][A-Za-z0-9._-]*", name)
	}

	systemTag := "tag " + src.TagPrefix + "system"
	system, ok := m.Tags[src.TagPrefix+"system"]
	switch {
	case !ok || system == "":
		return warn(systemTag, "missing; tag the machine with the name of one of the hive's systems (%s)", names(systems))
	case !ValidName(system) || !systems[system]:
		return warn(systemTag, "%q is not a system of the hive (%s)", system, names(systems))
	}

	inst, field, msg := optionalTags(src, m, stores)
	if msg != "" {
		return warn(field, "%s", msg)
	}

	address := chooseAddress(src.Address, m)
	if address == "" {
		return warn("address", "the machine has no %s address", addressKind(src.Address))
	}
	if !ValidAddress(address) {
		return warn("address", "%q is not an IP address or a DNS name", address)
	}

	inst.SSH = make(map[string]string, len(src.SSH)+1)
	maps.Copy(inst.SSH, src.SSH)
	inst.SSH["HostName"] = address
	inst.Name, inst.System, inst.Source, inst.MachineID = name, system, src.Name, m.ID
	return inst, nil
}

// optionalTags reads the machine's store, tags, environment and url tags
// into an instance, or names the tag that fails its check and why.
func optionalTags(src Source, m Machine, stores map[string]bool) (inst Instance, field, msg string) {
	tag := func(key string) (string, bool) {
		v, ok := m.Tags[src.TagPrefix+key]
		return v, ok
	}
	bad := func(key, format string, args ...any) (Instance, string, string) {
		return Instance{}, "tag " + src.TagPrefix + key, fmt.Sprintf(format, args...)
	}

	store, _ := tag("store")
	if store != "" && (!ValidName(store) || !stores[store]) {
		return bad("store", "%q is not a store of the hive (%s)", store, names(stores))
	}

	tags := []string{}
	if v, ok := tag("tags"); ok {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !ValidName(t) {
				return bad("tags", "%q is not a tag: each comma-separated tag must match [A-Za-z0-9][A-Za-z0-9._-]*", t)
			}
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}

	environment := DefaultEnvironment
	if v, ok := tag("environment"); ok {
		if !ValidEnvironment(v) {
			return bad("environment", "%q is not an environment name: 1 to 255 characters without control characters", v)
		}
		environment = v
	}

	url, _ := tag("url")
	if url != "" && !ValidURL(url) {
		return bad("url", "%q is not an http(s) URL with a host", url)
	}
	return Instance{Store: store, Tags: tags, Environment: environment, URL: url}, "", ""
}

// chooseAddress picks the machine's address of the source's kind.
func chooseAddress(kind string, m Machine) string {
	switch kind {
	case AddressPublic:
		return m.PublicIP
	case AddressDNS:
		if m.PublicDNS != "" {
			return m.PublicDNS
		}
		return m.PrivateDNS
	}
	return m.PrivateIP
}

func addressKind(kind string) string {
	switch kind {
	case AddressPublic:
		return "public IP"
	case AddressDNS:
		return "DNS"
	}
	return "private IP"
}

// names lists a set's names for a message.
func names(set map[string]bool) string {
	if len(set) == 0 {
		return "it defines none"
	}
	return "defined: " + strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

// dropDuplicates leaves out every instance whose name another one shares,
// with a warning for each, and sorts the rest by name.
func dropDuplicates(instances []Instance) ([]Instance, []Warning) {
	count := map[string]int{}
	for _, i := range instances {
		count[i.Name]++
	}
	var kept []Instance
	var warnings []Warning
	for _, i := range instances {
		if count[i.Name] == 1 {
			kept = append(kept, i)
			continue
		}
		var others []string
		for _, o := range instances {
			if o.Name == i.Name && (o.Source != i.Source || o.MachineID != i.MachineID) {
				others = append(others, fmt.Sprintf("%q in discover.%s", o.MachineID, o.Source))
			}
		}
		warnings = append(warnings, Warning{Source: i.Source, Machine: i.MachineID, Field: "name",
			Message: fmt.Sprintf("the name %q is also the name of machine %s; give each machine its own name", i.Name, strings.Join(others, ", "))})
	}
	slices.SortFunc(kept, func(a, b Instance) int { return strings.Compare(a.Name, b.Name) })
	return kept, warnings
}

// Clashes returns an error naming every discovered instance whose name is
// already taken in hive.nix, and what takes it; nil when there is none.
// taken maps each name of hive.nix's instances and sshHosts entries to its
// attribute path ("instances.web-1", "sshHosts.bastion"): a discovered
// instance named like an sshHosts entry would get two Host blocks, and ssh
// would read the first.
func Clashes(discovered []Instance, taken map[string]string) error {
	var errs []error
	for _, i := range discovered {
		if where, ok := taken[i.Name]; ok {
			errs = append(errs, fmt.Errorf("discover.%s: machine %q is named %q like %s in hive.nix; rename one of them",
				i.Source, i.MachineID, i.Name, where))
		}
	}
	return errors.Join(errs...)
}
