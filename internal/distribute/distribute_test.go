package distribute

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

const path = "/nix/store/0c7w6bmaql5gf3zyfrsbqqrjpk24x1sb-nixos-system-edge"

func TestPushCommands(t *testing.T) {
	nix := []string{"nix", "--extra-experimental-features", "nix-command"}
	tests := []struct {
		name, url, key string
		want           [][]string
	}{
		{"ssh-ng store: signed on the runner, copied, signed in the store", "ssh-ng://store-eu", "/k", [][]string{
			append(slices.Clone(nix), "store", "sign", "--recursive", "--key-file", "/k", path),
			append(slices.Clone(nix), "copy", "--no-check-sigs", "--to", "ssh-ng://store-eu", path),
			append(slices.Clone(nix), "store", "sign", "--store", "ssh-ng://store-eu", "--recursive", "--key-file", "/k", path),
		}},
		{"binary cache: uploaded signed, then signed in the cache", "s3://cache?region=eu-west-1", "/k", [][]string{
			append(slices.Clone(nix), "store", "sign", "--recursive", "--key-file", "/k", path),
			append(slices.Clone(nix), "copy", "--no-check-sigs", "--to", "s3://cache?region=eu-west-1", path),
			append(slices.Clone(nix), "store", "sign", "--store", "s3://cache?region=eu-west-1", "--recursive", "--key-file", "/k", path),
		}},
		{"no key: copied only", "file:///srv/cache", "", [][]string{
			append(slices.Clone(nix), "copy", "--no-check-sigs", "--to", "file:///srv/cache", path),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Nix{Inventory: &inventory.Inventory{Stores: map[string]inventory.Store{"eu": {URL: tt.url}}},
				SSH: &sshconfig.Config{Path: "/run/ssh_config"}, SigningKey: tt.key}
			cmds := n.PushCommands("eu", path)
			var got [][]string
			for _, c := range cmds {
				got = append(got, c.Args)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("PushCommands =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestPushStopsAtTheFirstFailure(t *testing.T) {
	fake := processtest.New(t)
	nix := []string{"nix", "--extra-experimental-features", "nix-command"}
	fake.Expect(append(slices.Clone(nix), "store", "sign", "--recursive"), "", nil)
	fake.Expect(append(slices.Clone(nix), "copy"), "", &process.CommandError{Args: []string{"nix"}, ExitCode: 1, Err: errors.New("exit status 1")})
	n := &Nix{Runner: fake, Inventory: &inventory.Inventory{Stores: map[string]inventory.Store{"eu": {URL: "ssh-ng://store-eu"}}},
		SSH: &sshconfig.Config{Path: "/run/ssh_config"}, SigningKey: "/k"}
	err := n.Push(context.Background(), "eu", path)
	if err == nil || !strings.HasPrefix(err.Error(), "push to store eu (ssh-ng://store-eu): ") {
		t.Errorf("Push = %v", err)
	}
	if calls := fake.Calls(); len(calls) != 2 {
		t.Errorf("ran %d commands, want the signing and the failed copy only", len(calls))
	}
}

func TestSubstituteForgetsMisses(t *testing.T) {
	n := &Nix{Inventory: &inventory.Inventory{
		Stores:    map[string]inventory.Store{"us": {URL: "file:///srv/cache", Substituter: "http://10.0.0.5:8080", PublicKey: "c:K="}},
		Instances: map[string]inventory.Instance{"us-1": {Store: "us", SSH: map[string]string{"User": "root"}}},
	}, SSH: &sshconfig.Config{Path: "/run/ssh_config"}}
	cmds := n.CopyCommands("us-1", path)
	if len(cmds) != 1 {
		t.Fatalf("CopyCommands = %d commands, want one remote command", len(cmds))
	}
	remote := cmds[0].Args[len(cmds[0].Args)-1]
	for _, want := range []string{"--option extra-substituters http://10.0.0.5:8080", "--option narinfo-cache-negative-ttl 0", "--option extra-trusted-public-keys c:K="} {
		if !strings.Contains(remote, want) {
			t.Errorf("the substitution %s lacks %q", remote, want)
		}
	}
}
