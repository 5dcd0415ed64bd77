// Package terraform reads machines from a Terraform state for nix-hive's
// discovery.
//
// It reads a version 4 state file (terraform.tfstate, Terraform 0.12 and
// later) or the output of `terraform show -json` (through
// github.com/hashicorp/terraform-json), telling them apart by content, and
// includes the resources of child modules. Only managed resources count,
// never data sources or deposed objects.
//
// These resource types are read as follows (tags are what the hive's
// <prefix>system, <prefix>store, ... and name tags are looked up in):
//
//	aws_instance             tags: tags and tags_all; private_ip, public_ip,
//	                         private_dns, public_dns; state: instance_state
//	hcloud_server            tags: labels; name; public: ipv4_address;
//	                         private: network[0].ip; state: status
//	google_compute_instance  tags: labels and effective_labels; name;
//	                         private: network_interface[0].network_ip;
//	                         public: network_interface[0].access_config[0].nat_ip;
//	                         state: current_status
//	digitalocean_droplet     tags: the tags list, each "key:value" (a
//	                         repeated key's values are joined with commas);
//	                         name; ipv4_address_private, ipv4_address;
//	                         state: status (active is running)
//
// Any other resource type is read the generic way, and only if one of its
// tags starts with the source's tag prefix (so tagged networks, buckets and
// the like are not taken for machines): tags from the first of tags_all,
// tags, labels, effective_labels that is a map of strings or a list of
// "key:value" strings; the name from name, label or hostname; the private
// address from private_ip, private_ip_address, ipv4_address_private,
// private_ipv4 or network_ip; the public address from public_ip,
// public_ip_address, ipv4_address, public_ipv4, access_ip_v4, nat_ip or
// ip_address; DNS names from private_dns, private_dns_name and public_dns,
// public_dns_name, fqdn. A machine's id is its id attribute
// (google_compute_instance: instance_id), or its address without one.
package terraform

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/nix-hive/nix-hive/internal/discover"
)

// MaxStateSize is the largest state file the reader reads.
const MaxStateSize = 512 << 20

// Reader reads the machines of a source's Terraform state.
type Reader struct{}

var _ discover.Reader = Reader{}

// Machines implements [discover.Reader]: it reads the state file once and
// maps its resources (see the package documentation).
func (Reader) Machines(ctx context.Context, src discover.Source) ([]discover.Machine, error) {
	if src.Terraform == nil {
		return nil, fmt.Errorf("not a terraform source")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readFile(src.Terraform.State)
	if err != nil {
		return nil, err
	}
	resources, err := ParseState(data)
	if err != nil {
		return nil, err
	}
	return Machines(resources, src.TagPrefix), nil
}

// Machines maps resources to machines, leaving out those that are not.
func Machines(resources []Resource, tagPrefix string) []discover.Machine {
	var out []discover.Machine
	for _, r := range resources {
		if m, ok := Machine(r, tagPrefix); ok {
			out = append(out, m)
		}
	}
	return out
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the state: %w; run `terraform state pull > FILE` or `terraform show -json > FILE` and point terraform.state at it", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	if len(data) > MaxStateSize {
		return nil, fmt.Errorf("read the state: larger than %d MiB", MaxStateSize>>20)
	}
	return data, nil
}
