package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	tfjson "github.com/hashicorp/terraform-json"
)

// Resource is a managed resource instance of a Terraform state.
type Resource struct {
	// Address is the resource instance's address
	// (module.app.aws_instance.web[0]).
	Address string
	// Type is the resource type (aws_instance).
	Type string
	// Attributes are the instance's attribute values as JSON decodes
	// them.
	Attributes map[string]any
}

// ErrUnknownFormat is wrapped by errors for a state whose format or
// version nix-hive does not read.
var ErrUnknownFormat = errors.New("not a Terraform state nix-hive reads")

// ParseState reads the managed resource instances of a state: a v4 state
// file ({"version": 4, "resources": [...]}) or the output of
// `terraform show -json` ({"format_version": "1.0", "values": ...}),
// told apart by their content. Data sources and deposed objects are left
// out; child modules are included.
func ParseState(data []byte) ([]Resource, error) {
	var head struct {
		Version       json.RawMessage `json:"version"`
		FormatVersion json.RawMessage `json:"format_version"`
		PlannedValues json.RawMessage `json:"planned_values"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: it is not JSON (%w)", ErrUnknownFormat, err)
	}
	switch {
	case head.PlannedValues != nil:
		return nil, fmt.Errorf("%w: this is a plan; give the state file or the output of `terraform show -json` without a plan", ErrUnknownFormat)
	case head.FormatVersion != nil:
		return parseShowJSON(data)
	case head.Version != nil:
		var version int
		if err := json.Unmarshal(head.Version, &version); err != nil {
			return nil, fmt.Errorf("%w: \"version\" is %s, not a state version", ErrUnknownFormat, head.Version)
		}
		switch {
		case version == 4:
			return parseV4(data)
		case version < 4:
			return nil, fmt.Errorf("%w: state version %d is from Terraform 0.11 or older; nix-hive reads version 4 "+
				"(Terraform 0.12 and later): upgrade the state with a current terraform, or give `terraform show -json` output", ErrUnknownFormat, version)
		default:
			return nil, fmt.Errorf("%w: state version %d is newer than version 4, which nix-hive reads; give the output of "+
				"`terraform show -json` instead", ErrUnknownFormat, version)
		}
	}
	return nil, fmt.Errorf("%w: it has neither \"version\" (a state file) nor \"format_version\" (`terraform show -json` output)", ErrUnknownFormat)
}

// parseShowJSON reads `terraform show -json` output.
func parseShowJSON(data []byte) ([]Resource, error) {
	var state tfjson.State
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("%w: `terraform show -json` output: %w", ErrUnknownFormat, err)
	}
	var out []Resource
	if state.Values != nil {
		out = walk(state.Values.RootModule, out)
	}
	return out, nil
}

// walk collects a module's managed resources and its child modules'.
func walk(m *tfjson.StateModule, out []Resource) []Resource {
	if m == nil {
		return out
	}
	for _, r := range m.Resources {
		if r == nil || r.Mode != tfjson.ManagedResourceMode || r.DeposedKey != "" {
			continue
		}
		out = append(out, Resource{Address: r.Address, Type: r.Type, Attributes: r.AttributeValues})
	}
	for _, child := range m.ChildModules {
		out = walk(child, out)
	}
	return out
}

// v4State is the part of a version 4 state file nix-hive reads.
type v4State struct {
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			IndexKey   any            `json:"index_key"`
			Deposed    string         `json:"deposed"`
			Attributes map[string]any `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

// parseV4 reads a version 4 state file.
func parseV4(data []byte) ([]Resource, error) {
	var state v4State
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&state); err != nil {
		return nil, fmt.Errorf("%w: version 4 state: %w", ErrUnknownFormat, err)
	}
	var out []Resource
	for _, r := range state.Resources {
		if r.Mode != "managed" {
			continue
		}
		base := r.Type + "." + r.Name
		if r.Module != "" {
			base = r.Module + "." + base
		}
		for _, inst := range r.Instances {
			if inst.Deposed != "" {
				continue
			}
			address := base
			switch k := inst.IndexKey.(type) {
			case float64:
				address += "[" + strconv.FormatFloat(k, 'f', -1, 64) + "]"
			case string:
				address += "[" + strconv.Quote(k) + "]"
			}
			out = append(out, Resource{Address: address, Type: r.Type, Attributes: inst.Attributes})
		}
	}
	return out, nil
}
