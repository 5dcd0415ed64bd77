package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/testenv"
)

// badInputHive is a valid hive; each bad-input case breaks one thing in it.
// Its store's publicKey is the public half of badInputSigningKey.
const badInputHive = `{
  paths = [ "nixpkgs=/nix-hive-test/nixpkgs" ];
  systems.web = { configuration = { }; tags = [ "frontend" ]; };
  stores.eu = { url = "ssh-ng://cache-eu"; substituter = "ssh://nix-ssh@192.0.2.5"; publicKey = "cache-eu:dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleXRlc3Q="; };
  sshHosts.cache-eu = { HostName = "192.0.2.5"; };
  instances.web-1 = { system = "web"; store = "eu"; tags = [ "eu" ]; ssh = { HostName = "192.0.2.11"; User = "root"; }; };
  instances.web-2 = { system = "web"; ssh = { HostName = "192.0.2.12"; Port = 2222; }; environment = "staging"; };
}
`

// badInputSigningKey and otherSigningKey are made-up nix secret keys (a
// key's last 32 bytes are its public half).
const (
	badInputSigningKey = "cache-eu:ZmFrZS1zaWduaW5nLWtleS1tYXRlcmlhbC0zMmJ5dGV0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdA=="
	otherSigningKey    = "cache-eu:YW5vdGhlci1mYWtlLXNlZWQtZm9yLWtleS10ZXN0cyFvdGhlcmtleW90aGVya2V5b3RoZXJrZXlvdGhlcmtleQ=="
)

// touchGuard puts an ssh first in PATH that fails the test's expectations
// by recording any use other than `ssh -G` (which reads the config and
// touches no host), and returns the environment and the record file.
func touchGuard(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "touched")
	realSSH, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nif [ \"$1\" = -G ]; then exec " + realSSH + " \"$@\"; fi\necho \"ssh $*\" >> " + record + "\nexit 255\n"
	if err := os.WriteFile(filepath.Join(dir, "ssh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NIX_CONFIG=substituters ="}
	return env, record
}

// TestBadInput feeds one bad input at a time (hive.nix, the command line)
// and checks that the error names the file, field or flag and says what to
// do, that the exit code is not 0, and that no host was touched.
func TestBadInput(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate", "ssh", "ssh-keygen")
	keys := t.TempDir()
	sshKey := filepath.Join(keys, "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	known := filepath.Join(keys, "known_hosts")
	pub, _ := os.ReadFile(sshKey + ".pub")
	hostKey := strings.Join(strings.Fields(string(pub))[:2], " ")
	os.WriteFile(known, []byte("192.0.2.11 "+hostKey+"\n[192.0.2.12]:2222 "+hostKey+"\n"), 0o600)
	write := func(name, content string) string {
		p := filepath.Join(keys, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	signingKey := write("signing", badInputSigningKey)
	emptyKey := write("empty", "")
	notAKey := write("garbage", "hunter2\n")

	tests := []struct {
		name     string
		from, to string   // edit of badInputHive
		args     []string // extra deploy flags
		want     string
	}{
		{name: "unknown system", from: `system = "web"; store`, to: `system = "wbe"; store`, want: `hive.nix: instances.web-1.system: unknown system "wbe"; the systems are: web`},
		{name: "unknown store", from: `store = "eu";`, to: `store = "us";`, want: `hive.nix: instances.web-1.store: unknown store "us"; the stores are: eu`},
		{name: "bad instance name", from: `instances.web-2`, to: `instances."web 2"`, want: `hive.nix: instances."web 2": the name must match`},
		{name: "non-string tag", from: `tags = [ "eu" ]`, to: `tags = [ true ]`, want: `hive.nix: instances.web-1.tags.0: expected a string, got a boolean`},
		{name: "syntax error", from: `systems.web = {`, to: `systems.web = {{`, want: `syntax error`},
		{name: "misspelt attribute", from: `environment = "staging"`, to: `enviroment = "staging"`, want: `hive.nix: instances.web-2.enviroment: unknown attribute`},
		{name: "hive of the wrong type", from: `{
  paths`, to: `[ {
  paths`, want: `hive.nix must evaluate to an attribute set`},
		{name: "sshHosts and instances share a name", from: `sshHosts.cache-eu`, to: `sshHosts.web-1 = { }; sshHosts.cache-eu`, want: `hive.nix: sshHosts.web-1: "web-1" is also an instance`},
		{name: "store URL nix rejects", from: `ssh-ng://cache-eu`, to: `ftp://cache-eu`, want: `hive.nix: stores.eu.url: "ftp://cache-eu": nix knows no store type "ftp"`},
		{name: "bad store key", from: `"cache-eu:dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleXRlc3Q="`, to: `"dGVzdA=="`, want: `hive.nix: stores.eu.publicKey: "dGVzdA==" is not a nix public key`},
		{name: "store without publicKey", from: `publicKey = "cache-eu:dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleXRlc3Q=";`, to: ``,
			want: `store eu (ssh-ng://cache-eu, for web-1): stores.eu.publicKey is not set`},
		{name: "no signing key for a store", args: []string{"--signing-key", ""}, want: `store eu (ssh-ng://cache-eu, for web-1): no signing key: its instances accept only paths signed by the key cache-eu`},
		{name: "signing key of another store", args: []string{"--signing-key", write("other", otherSigningKey)},
			want: `store eu (ssh-ng://cache-eu, for web-1): the signing key's public half cache-eu:b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk= does not match stores.eu.publicKey cache-eu:dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleXRlc3Q=`},
		{name: "substituter defaulting to an ssh alias", from: `substituter = "ssh://nix-ssh@192.0.2.5"; `, to: ``,
			want: `hive.nix: stores.eu.substituter: "ssh-ng://cache-eu" names cache-eu, a host of nix-hive's generated ssh config, which the instances do not have`},
		{name: "a legacy ssh:// store", from: `url = "ssh-ng://cache-eu"`, to: `url = "ssh://cache-eu"`,
			want: `hive.nix: stores.eu.url: "ssh://cache-eu": nix cannot add signatures to an ssh:// store`},
		{name: "unknown ssh option", from: `Port = 2222;`, to: `Prot = 2222;`, want: `hive.nix: instances.web-2.ssh.Prot: ssh rejects it: Bad configuration option: prot`},
		{name: "ssh port not a number", from: `Port = 2222;`, to: `Port = "notaport";`, want: `hive.nix: instances.web-2.ssh.Port: ssh rejects it: Bad port 'notaport'`},
		{name: "empty environment", from: `environment = "staging"`, to: `environment = ""`, want: `hive.nix: instances.web-2.environment: must be 1 to 255 characters`},
		{name: "nixpkgs not pinned", from: `paths = [ "nixpkgs=/nix-hive-test/nixpkgs" ];`, to: ``, want: `hive.nix: systems.web.path: <nixpkgs> is not pinned`},
		{name: "missing system", from: `system = "web"; ssh`, to: `ssh`, want: `hive.nix: instances.web-2.system: missing; set it to one of the systems: web`},
		{name: "name selects nothing", args: []string{"--on", "web-3"}, want: `--on term "web-3" selects no instance`},
		{name: "tag selects nothing", args: []string{"--on", "@backend"}, want: `--on term "@backend" selects no instance`},
		{name: "selector with shell text", args: []string{"--on", "web-1;reboot"}, want: `"web-1;reboot" is not a name, glob (web-*) or @tag`},
		{name: "bad goal", args: []string{"--goal", "upgrade"}, want: `--goal: unknown goal "upgrade"; use one of build, push, switch, boot, test, dry-activate`},
		{name: "parallel zero", args: []string{"--parallel", "0"}, want: `--parallel: "0" is not a whole number of at least 1`},
		{name: "parallel negative", args: []string{"--parallel", "-3"}, want: `--parallel: "-3" is not a whole number of at least 1`},
		{name: "parallel not a number", args: []string{"--parallel", "lots"}, want: `--parallel: "lots" is not a whole number of at least 1`},
		{name: "batch zero", args: []string{"--batch", "0"}, want: `--wave, --batch: batch "0" is neither a number of instances (5) nor a percentage (25%)`},
		{name: "empty wave", args: []string{"--wave", "web-*", "--wave", ""}, want: "--wave, --batch: wave 2 is empty"},
		{name: "wave with shell text", args: []string{"--wave", "web-1;reboot"}, want: "--wave, --batch: wave 1:"},
		{name: "wave selecting nothing", args: []string{"--wave", "@canry"}, want: `rollout: wave 1 (@canry): --on term "@canry" selects no instance`},
		{name: "unknown activation failure policy", args: []string{"--on-activation-failure", "ignore"}, want: `--on-activation-failure: unknown policy "ignore"; use rollback or keep`},
		{name: "activation timeout zero", args: []string{"--activation-timeout", "0s"}, want: `--activation-timeout must be positive`},
		{name: "empty ssh key", args: []string{"--ssh-key", emptyKey}, want: `--ssh-key: ` + emptyKey + `: not a usable key: the ssh private key is empty`},
		{name: "malformed ssh key", args: []string{"--ssh-key", notAKey}, want: `expected an OpenSSH private key`},
		{name: "public key as ssh key", args: []string{"--ssh-key", sshKey + ".pub"}, want: `this is a public key; give the private key`},
		{name: "missing ssh key", args: []string{"--ssh-key", filepath.Join(keys, "nope")}, want: `--ssh-key ` + filepath.Join(keys, "nope") + `: stat`},
		{name: "signing key that is not one", args: []string{"--signing-key", notAKey}, want: `--signing-key: ` + notAKey + `: not a usable key: expected a nix secret key`},
		{name: "known_hosts without the host", args: []string{"--on", "web-1", "--known-hosts", write("partial", "[192.0.2.12]:2222 "+hostKey+"\n")},
			want: `web-1 (192.0.2.11): host key is not known`},
		{name: "known_hosts without the store", args: []string{"--on", "web-1"}, want: `cache-eu (192.0.2.5): host key is not known`},
		{name: "missing hive", args: []string{"--hive", filepath.Join(keys, "none")}, want: `hive file not found: ` + filepath.Join(keys, "none")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := badInputHive
			if tt.from != "" {
				if !strings.Contains(src, tt.from) {
					t.Fatalf("fixture lacks %q", tt.from)
				}
				src = strings.Replace(src, tt.from, tt.to, 1)
				if tt.name == "hive of the wrong type" {
					src += " ]"
				}
			}
			os.WriteFile(filepath.Join(dir, "hive.nix"), []byte(src), 0o644)
			env, touched := touchGuard(t)
			args := append([]string{"deploy", "--hive", dir, "--ssh-key", sshKey, "--known-hosts", known, "--signing-key", signingKey}, tt.args...)
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), args, env, &stdout, &stderr)
			if err == nil {
				t.Fatal("bad input was accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not say %q:\n%v", tt.want, err)
			}
			if code := ExitCode(err); code == 0 {
				t.Errorf("exit code 0")
			}
			if data, err := os.ReadFile(touched); err == nil {
				t.Errorf("a host was touched:\n%s", data)
			}
		})
	}
	if len(tests) < 20 {
		t.Errorf("only %d bad-input cases", len(tests))
	}
}
