package githubfake

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// deploymentsJSON is GitHub's own description of the deployments REST
// endpoints: the "deployments" and "statuses" sections of
// github/docs src/rest/data/fpt-2022-11-28/deployments.json at commit
// 3addeadbee1b375e76d51d7387a55c610f16b212, otherwise unchanged.
//
//go:embed deployments.json
var deploymentsJSON []byte

// operation is one endpoint as deployments.json describes it.
type operation struct {
	Verb           string      `json:"verb"`
	RequestPath    string      `json:"requestPath"`
	Title          string      `json:"title"`
	Category       string      `json:"category"`
	Subcategory    string      `json:"subcategory"`
	Parameters     []parameter `json:"parameters"`
	BodyParameters []bodyParam `json:"bodyParameters"`
	CodeExamples   []struct {
		Response struct {
			Schema *schema `json:"schema"`
		} `json:"response"`
	} `json:"codeExamples"`

	// Derived when loading.
	resource  string         // "Deployment", "DeploymentStatus": the resource in 422 errors
	maxLength map[string]int // body field -> maximum length, from the response schema
}

type parameter struct {
	Name   string `json:"name"`
	In     string `json:"in"`
	Schema struct {
		Type string `json:"type"`
	} `json:"schema"`
}

type bodyParam struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	IsRequired bool     `json:"isRequired"`
	Enum       []string `json:"enum"`
}

type schema struct {
	Title      string             `json:"title"`
	Type       string             `json:"type"`
	Items      *schema            `json:"items"`
	Properties map[string]*schema `json:"properties"`
	MaxLength  int                `json:"maxLength"`
}

// key names an operation the way Go's ServeMux patterns do: "POST /repos/...".
func (op *operation) key() string { return strings.ToUpper(op.Verb) + " " + op.RequestPath }

// documentationURL is the docs.github.com page GitHub links in its errors.
func (op *operation) documentationURL() string {
	anchor := strings.ReplaceAll(strings.ToLower(op.Title), " ", "-")
	return "https://docs.github.com/rest/" + op.Category + "/" + op.Subcategory + "#" + anchor
}

// loadSpec reads the embedded description into operations keyed by key().
func loadSpec() (map[string]*operation, error) {
	var sections map[string][]*operation
	if err := json.Unmarshal(deploymentsJSON, &sections); err != nil {
		return nil, fmt.Errorf("read embedded deployments.json: %w", err)
	}
	ops := make(map[string]*operation)
	for _, section := range sections {
		for _, op := range section {
			op.maxLength = make(map[string]int)
			for _, ex := range op.CodeExamples {
				s := ex.Response.Schema
				if s != nil && s.Type == "array" && s.Items != nil {
					s = s.Items
				}
				if s == nil {
					continue
				}
				op.resource = strings.ReplaceAll(s.Title, " ", "")
				for name, p := range s.Properties {
					if p.MaxLength > 0 {
						op.maxLength[name] = p.MaxLength
					}
				}
			}
			ops[op.key()] = op
		}
	}
	return ops, nil
}

// fieldError is one entry of the "errors" list of a 422 answer.
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

// validateBody checks a request body against the operation's body parameters:
// no unknown fields, the documented JSON type, required fields present, enum
// values respected and the response schema's maxLength honoured. A returned
// error means the spec itself uses a type this package does not understand.
func (op *operation) validateBody(body []byte) ([]fieldError, error) {
	if len(op.BodyParameters) == 0 {
		if len(strings.TrimSpace(string(body))) > 0 {
			return []fieldError{{Resource: op.resource, Code: "invalid", Message: "this endpoint takes no request body"}}, nil
		}
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return []fieldError{{Resource: op.resource, Code: "invalid", Message: "the body is not a JSON object"}}, nil
	}
	var errs []fieldError
	known := make(map[string]bool)
	for _, p := range op.BodyParameters {
		known[p.Name] = true
		raw, ok := fields[p.Name]
		if !ok {
			if p.IsRequired {
				errs = append(errs, fieldError{Resource: op.resource, Field: p.Name, Code: "missing_field"})
			}
			continue
		}
		match, err := hasType(p.Type, raw)
		if err != nil {
			return nil, fmt.Errorf("body parameter %s of %s: %w", p.Name, op.key(), err)
		}
		if !match {
			errs = append(errs, fieldError{Resource: op.resource, Field: p.Name, Code: "invalid",
				Message: fmt.Sprintf("%s is not a %s: %s", p.Name, p.Type, raw)})
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue // the remaining checks concern strings
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
			errs = append(errs, fieldError{Resource: op.resource, Field: p.Name, Code: "invalid",
				Message: fmt.Sprintf("%s %q is not one of %s", p.Name, s, strings.Join(p.Enum, ", "))})
		}
		if max := op.maxLength[p.Name]; max > 0 && len([]rune(s)) > max {
			errs = append(errs, fieldError{Resource: op.resource, Field: p.Name, Code: "custom",
				Message: fmt.Sprintf("%s is too long (maximum is %d characters)", p.Name, max)})
		}
	}
	for _, name := range sortedKeys(fields) {
		if !known[name] {
			errs = append(errs, fieldError{Resource: op.resource, Field: name, Code: "invalid",
				Message: fmt.Sprintf("%q is not a permitted key", name)})
		}
	}
	return errs, nil
}

// hasType reports whether raw is a JSON value of a deployments.json type
// such as "string", "boolean", "array of strings", "object or string" or
// "string or null".
func hasType(typ string, raw json.RawMessage) (bool, error) {
	for _, alt := range strings.Split(typ, " or ") {
		ok, err := hasSimpleType(strings.TrimSpace(alt), raw)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func hasSimpleType(typ string, raw json.RawMessage) (bool, error) {
	if elem, ok := strings.CutPrefix(typ, "array of "); ok {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil || items == nil {
			return false, nil
		}
		elem = strings.TrimSuffix(elem, "s") // "strings" -> "string"
		for _, item := range items {
			if ok, err := hasSimpleType(elem, item); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, nil
	}
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok, nil
	case "boolean":
		_, ok := v.(bool)
		return ok, nil
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f)), nil
	case "number":
		_, ok := v.(float64)
		return ok, nil
	case "object":
		_, ok := v.(map[string]any)
		return ok, nil
	case "array":
		_, ok := v.([]any)
		return ok, nil
	case "null":
		return v == nil, nil
	}
	return false, fmt.Errorf("unsupported type %q in deployments.json", typ)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validateQuery checks query parameters against the operation's documented
// ones: only known names, and integers where the spec says "integer".
func (op *operation) validateQuery(query map[string][]string) []string {
	var problems []string
	for _, name := range sortedKeys(query) {
		i := slices.IndexFunc(op.Parameters, func(p parameter) bool { return p.In == "query" && p.Name == name })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("unknown query parameter %q", name))
			continue
		}
		if op.Parameters[i].Schema.Type != "integer" {
			continue
		}
		for _, v := range query[name] {
			if ok, _ := hasSimpleType("integer", json.RawMessage(v)); !ok {
				problems = append(problems, fmt.Sprintf("query parameter %s=%q is not an integer", name, v))
			}
		}
	}
	return problems
}
