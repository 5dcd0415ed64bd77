package terraform

import (
	"maps"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/discover"
)

// Machine maps a resource to a machine, or reports that it is not one.
// Resources of the known types (aws_instance, hcloud_server,
// google_compute_instance, digitalocean_droplet) are always machines;
// others are machines, read the generic way, when one of their tags
// starts with tagPrefix.
func Machine(r Resource, tagPrefix string) (discover.Machine, bool) {
	a := r.Attributes
	m := discover.Machine{ID: str(a, "id"), Address: r.Address}
	switch r.Type {
	case "aws_instance":
		m.Tags = mergeMaps(a["tags"], a["tags_all"])
		m.PrivateIP, m.PublicIP = str(a, "private_ip"), str(a, "public_ip")
		m.PrivateDNS, m.PublicDNS = str(a, "private_dns"), str(a, "public_dns")
		m.State = str(a, "instance_state")
	case "hcloud_server":
		m.Name, m.Tags = str(a, "name"), mergeMaps(a["labels"])
		m.PublicIP = str(a, "ipv4_address")
		m.PrivateIP = str(at(a, "network", 0), "ip")
		m.State = str(a, "status")
	case "google_compute_instance":
		if id := str(a, "instance_id"); id != "" {
			m.ID = id
		}
		m.Name, m.Tags = str(a, "name"), mergeMaps(a["labels"], a["effective_labels"])
		nic := at(a, "network_interface", 0)
		m.PrivateIP = str(nic, "network_ip")
		m.PublicIP = str(at(nic, "access_config", 0), "nat_ip")
		m.State = strings.ToLower(str(a, "current_status"))
	case "digitalocean_droplet":
		m.Name, m.Tags = str(a, "name"), listTags(a["tags"])
		m.PrivateIP, m.PublicIP = str(a, "ipv4_address_private"), str(a, "ipv4_address")
		m.State = str(a, "status")
		if m.State == "active" {
			m.State = "running"
		}
	default:
		if !generic(&m, a, tagPrefix) {
			return discover.Machine{}, false
		}
	}
	if m.ID == "" {
		m.ID = r.Address
	}
	return m, true
}

// Attribute names the generic mapping reads, first found first.
var (
	genericTags       = []string{"tags_all", "tags", "labels", "effective_labels"}
	genericName       = []string{"name", "label", "hostname"}
	genericPrivateIP  = []string{"private_ip", "private_ip_address", "ipv4_address_private", "private_ipv4", "network_ip"}
	genericPublicIP   = []string{"public_ip", "public_ip_address", "ipv4_address", "public_ipv4", "access_ip_v4", "nat_ip", "ip_address"}
	genericPrivateDNS = []string{"private_dns", "private_dns_name"}
	genericPublicDNS  = []string{"public_dns", "public_dns_name", "fqdn"}
)

// generic reads a resource of another type: tags from the first of
// genericTags that is a map of strings, or a list of "key:value" strings;
// the name and addresses from the first attribute of each list that is
// set. It is a machine only if a tag starts with tagPrefix.
func generic(m *discover.Machine, a map[string]any, tagPrefix string) bool {
	for _, k := range genericTags {
		if t := mergeMaps(a[k]); len(t) > 0 {
			m.Tags = t
			break
		}
		if t := listTags(a[k]); len(t) > 0 {
			m.Tags = t
			break
		}
	}
	marked := false
	for k := range m.Tags {
		marked = marked || strings.HasPrefix(k, tagPrefix)
	}
	if !marked {
		return false
	}
	m.Name = first(a, genericName)
	m.PrivateIP, m.PublicIP = first(a, genericPrivateIP), first(a, genericPublicIP)
	m.PrivateDNS, m.PublicDNS = first(a, genericPrivateDNS), first(a, genericPublicDNS)
	return true
}

// str returns a string (or whole number) attribute, or "".
func str(a map[string]any, key string) string {
	switch v := a[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func first(a map[string]any, keys []string) string {
	for _, k := range keys {
		if v := str(a, k); v != "" {
			return v
		}
	}
	return ""
}

// at returns element i of a list attribute of objects (a Terraform nested
// block), or nil.
func at(a map[string]any, key string, i int) map[string]any {
	list, _ := a[key].([]any)
	if i >= len(list) {
		return nil
	}
	obj, _ := list[i].(map[string]any)
	return obj
}

// mergeMaps merges map attributes of string values, later ones winning;
// values that are not strings are left out.
func mergeMaps(values ...any) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		m, _ := v.(map[string]any)
		for k, x := range m {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

// listTags reads a list of "key:value" strings (DigitalOcean's tags);
// values of a repeated key are joined with commas, so that
// nix-hive-tags:eu and nix-hive-tags:edge give the tags eu and edge.
// Entries without a colon are left out.
func listTags(v any) map[string]string {
	list, _ := v.([]any)
	out := map[string]string{}
	for _, x := range list {
		s, _ := x.(string)
		k, value, ok := strings.Cut(s, ":")
		if !ok || k == "" {
			continue
		}
		if old, dup := out[k]; dup {
			value = old + "," + value
		}
		out[k] = value
	}
	return maps.Clone(out)
}
