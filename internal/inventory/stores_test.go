package inventory

import (
	"strings"
	"testing"
)

func TestCheckSigning(t *testing.T) {
	const key = "cache-eu:EFlv01/Khe9hKBmfuSAdx/Ck9n4Wtskdqy7PZRBQQmU="
	const other = "cache-eu:ziu4c608E6HZUvmXye5EkvUoN/zwF/vSi6/Fu3GIC2M="
	tests := []struct {
		name      string
		stores    map[string]Store
		signing   string
		wantParts []string // each in the error; none for no error
	}{
		{"matching key", map[string]Store{"eu": {URL: "ssh-ng://c", PublicKey: key}}, key, nil},
		{"no store, no key", nil, "", nil},
		{"a store without publicKey", map[string]Store{"eu": {URL: "ssh-ng://c"}}, key,
			[]string{"store eu (ssh-ng://c, for eu-1, eu-2): stores.eu.publicKey is not set"}},
		{"no signing key", map[string]Store{"eu": {URL: "s3://b", PublicKey: key}}, "",
			[]string{"store eu (s3://b, for eu-1, eu-2): no signing key", "signed by the key cache-eu", "--signing-key"}},
		{"a mismatched key", map[string]Store{"eu": {URL: "file:///c", PublicKey: key}}, other,
			[]string{"store eu (file:///c, for eu-1, eu-2): the signing key's public half " + other + " does not match stores.eu.publicKey " + key}},
		{"every store is named", map[string]Store{"eu": {URL: "ssh-ng://c"}, "us": {URL: "ssh-ng://d"}}, key,
			[]string{"store eu (", "store us (ssh-ng://d, for us-1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{Stores: tt.stores, Instances: map[string]Instance{
				"eu-1": {Store: "eu"}, "eu-2": {Store: "eu"}, "us-1": {Store: "us"}, "web-1": {},
			}}
			err := inv.CheckSigning(tt.signing)
			if len(tt.wantParts) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, p := range tt.wantParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q lacks %q", err, p)
				}
			}
		})
	}
}
