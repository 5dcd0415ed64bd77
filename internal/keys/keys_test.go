package keys

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func key(k inventory.Key) inventory.Key {
	k.DestDir, k.User, k.Group, k.Permissions, k.UploadAt = "/run/keys", "root", "root", "0600", inventory.PreActivation
	return k
}

func inv(keys map[string]inventory.Key) *inventory.Inventory {
	return &inventory.Inventory{
		Instances: map[string]inventory.Instance{"web-1": {System: "web"}, "web-2": {System: "web"}},
		Keys:      inventory.Keys{Systems: map[string]map[string]inventory.Key{"web": keys}},
	}
}

// TestResolve reads keys from each kind of source, each source once, and
// names every missing one at once.
func TestResolve(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("from a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := processtest.New(t)
	r.Expect([]string{"pass", "show", "db"}, "from a command\n", nil)
	s, err := Resolve(context.Background(), r, inv(map[string]inventory.Key{
		"a": key(inventory.Key{File: file}),
		"b": key(inventory.Key{Command: []string{"pass", "show", "db"}}),
		"c": key(inventory.Key{Env: "TOKEN"}),
	}), []string{"TOKEN=old", "TOKEN=from the environment"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "from a file", "b": "from a command\n", "c": "from the environment"} {
		if got := string(s.Of("web-2")[name].content); got != want {
			t.Errorf("key %s = %q, want %q", name, got, want)
		}
	}
	if n := len(r.Calls()); n != 1 {
		t.Errorf("the command ran %d times for two instances, want once", n)
	}
	s.Clear()
	if len(s.Of("web-1")) != 0 {
		t.Error("Clear left keys")
	}

	_, err = Resolve(context.Background(), processtest.New(t), inv(map[string]inventory.Key{
		"a": key(inventory.Key{File: filepath.Join(t.TempDir(), "missing")}),
		"c": key(inventory.Key{Env: "MISSING"}),
	}), nil)
	if err == nil || !strings.Contains(err.Error(), "no host was touched") || !strings.Contains(err.Error(), "MISSING is not set") ||
		!strings.Contains(err.Error(), "key a of web-1: read its file") {
		t.Errorf("error %v, want every missing source named", err)
	}
}

// TestUpload checks that a key's content goes to ssh's standard input and
// never into its arguments, with its destination, owner and mode.
func TestUpload(t *testing.T) {
	secret := "s3cret; rm -rf /"
	s := &Set{keys: map[string]map[string]*Key{"web-1": {
		"token": {Key: key(inventory.Key{Env: "T"}), Name: "token", content: []byte(secret)},
		"late":  {Key: inventory.Key{DestDir: "/etc/app", User: "app", Group: "app", Permissions: "0440", UploadAt: inventory.PostActivation}, Name: "late", content: []byte("x")},
	}}}
	r := processtest.New(t)
	var got []string
	r.Respond([]string{"ssh"}, func(c process.Command) (string, error) {
		in, _ := io.ReadAll(c.Stdin)
		if strings.Contains(strings.Join(c.Args, " "), secret) {
			t.Errorf("the key is in the arguments: %q", c.Args)
		}
		got = append(got, c.Args[len(c.Args)-1]+" <- "+string(in))
		return "", nil
	})
	u := &Uploader{Runner: r, SSH: &sshconfig.Config{Path: "/cfg"}, Keys: s}
	if err := u.Upload(context.Background(), "web-1", inventory.PreActivation); err != nil {
		t.Fatal(err)
	}
	want := process.QuoteArgs([]string{"sh", "-c", writeKey, "nix-hive-key", "/run/keys/token", "root", "root", "0600"}) + " <- " + secret
	if len(got) != 1 || got[0] != want {
		t.Errorf("uploads %q, want %q", got, want)
	}
}

// TestWriteKey runs the remote script with sh: it writes the file with
// the mode, through a temporary file, and never leaves one behind.
func TestWriteKey(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test writes keys as root, and CI runs as root")
		}
		t.Skip("the key script runs as root (or through sudo)")
	}
	dir := filepath.Join(t.TempDir(), "keys")
	dest := filepath.Join(dir, "token")
	cmd := exec.Command("sh", "-c", writeKey, "nix-hive-key", dest, "root", "root", "0640")
	cmd.Stdin = bytes.NewReader([]byte("content\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	data, err := os.ReadFile(dest)
	if err != nil || string(data) != "content\n" {
		t.Fatalf("key %q, %v", data, err)
	}
	for path, want := range map[string]os.FileMode{dest: 0o640, dir: os.ModeDir | 0o711} {
		if st, err := os.Stat(path); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode(), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}
