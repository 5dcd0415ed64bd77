package action

import (
	"slices"
	"testing"
)

func TestNixEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		extra   string
		want    []string
	}{
		{"nothing to add", []string{"A=1", "NIX_CONFIG=x = 1"}, "", []string{"A=1", "NIX_CONFIG=x = 1"}},
		{"new", []string{"A=1"}, "substituters = https://c.example.org\n", []string{"A=1", "NIX_CONFIG=substituters = https://c.example.org"}},
		{"after the runner's", []string{"NIX_CONFIG=substituters =\n", "B=2"}, "connect-timeout = 5",
			[]string{"B=2", "NIX_CONFIG=substituters =\nconnect-timeout = 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.environ)
			got := NixEnviron(tt.environ, tt.extra)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !slices.Equal(tt.environ, before) {
				t.Errorf("NixEnviron changed its argument to %q", tt.environ)
			}
		})
	}
}
