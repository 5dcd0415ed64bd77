package deploy

import (
	"slices"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
)

func TestPushRunnerKeepsAWSOnlyForS3Stores(t *testing.T) {
	tests := []struct {
		name   string
		stores map[string]inventory.Store
		keep   []string
	}{
		{"no store", nil, nil},
		{"ssh store", map[string]inventory.Store{"eu": {URL: "ssh-ng://cache-eu"}}, nil},
		{"s3 store", map[string]inventory.Store{"eu": {URL: "ssh-ng://cache-eu"}, "us": {URL: "s3://cache-us?region=us-east-1"}}, []string{process.AWSPrefix}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &process.Exec{Environ: []string{"PATH=/bin"}}
			got, ok := pushRunner(r, &inventory.Inventory{Stores: tt.stores}).(*process.Exec)
			if !ok || !slices.Equal(got.Keep, tt.keep) || !slices.Equal(got.Environ, r.Environ) {
				t.Errorf("pushRunner = %+v, want Keep %q", got, tt.keep)
			}
			if r.Keep != nil {
				t.Errorf("pushRunner changed the shared runner: %+v", r)
			}
		})
	}
}
