package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/testenv"
)

func TestInventoryCommand(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate")
	fleet := "../inventory/testdata/fleet"
	tests := []struct {
		name     string
		args     []string
		want     []string // selected instances
		wantErr  string
		wantCode int
	}{
		{name: "all", args: nil, want: []string{"db-1", "edge-1", "edge-2", "web-1", "web-2", "web-3"}},
		{name: "by name", args: []string{"--on", "db-1"}, want: []string{"db-1"}},
		{name: "by glob", args: []string{"--on", "web-*"}, want: []string{"web-1", "web-2", "web-3"}},
		{name: "by instance tag", args: []string{"--on", "@eu"}, want: []string{"web-1", "web-2"}},
		{name: "by system tag", args: []string{"--on", "@edge"}, want: []string{"edge-1", "edge-2"}},
		{name: "union", args: []string{"--on", "@canary,db-1"}, want: []string{"db-1", "edge-2"}},
		{name: "unknown name", args: []string{"--on", "web-9"}, wantErr: `fleet/hive.nix: --on term "web-9" selects no instance`, wantCode: 1},
		{name: "bad selector", args: []string{"--on", "web;reboot"}, wantErr: `"web;reboot" is not a name, glob (web-*) or @tag`, wantCode: 2},
		{name: "missing hive", args: []string{"--hive", "/nonexistent"}, wantErr: "hive file not found: /nonexistent; pass --hive with a deployment directory or its hive.nix", wantCode: 1},
		{name: "stray argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"inventory", "--hive", fleet}, tt.args...)
			err := Run(context.Background(), args, os.Environ(), &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if code := ExitCode(err); code != tt.wantCode {
					t.Errorf("exit code %d, want %d", code, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var inv map[string]json.RawMessage
			if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"paths", "systems", "stores", "instances", "sshConfig"} {
				if _, ok := inv[key]; !ok {
					t.Errorf("inventory lacks %q", key)
				}
			}
			var instances map[string]any
			json.Unmarshal(inv["instances"], &instances)
			var got []string
			for n := range instances {
				got = append(got, n)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("instances = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInventoryBuildsNothing(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate")
	// Every configuration in the fixture throws when evaluated; a syntax
	// error in hive.nix is reported with the file and position.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hive.nix"), []byte("{ systems = {\n"), 0o644)
	err := Run(context.Background(), []string{"inventory", "--hive", dir}, os.Environ(), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "syntax error") || !strings.Contains(err.Error(), filepath.Join(dir, "hive.nix")) {
		t.Errorf("syntax error: %v", err)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"--help"}, 0},
		{[]string{"deploy", "--goal", "reboot"}, 2},
		{[]string{"deploy", "--parallel", "0"}, 2},
		{[]string{"deploy", "--parallel", "many"}, 2},
		{[]string{"deploy", "--ssh-key", "/nonexistent/key"}, 2},
		{[]string{"deploy", "--help"}, 0},
	}
	for _, tt := range tests {
		err := Run(context.Background(), tt.args, nil, &bytes.Buffer{}, &bytes.Buffer{})
		if code := ExitCode(err); code != tt.code {
			t.Errorf("nix-hive %v: exit code %d (%v), want %d", tt.args, code, err, tt.code)
		}
	}
}
