package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMaskSecrets(t *testing.T) {
	key := opensshKey("none")
	env := fakeEnv(t, map[string]string{"INPUT_SSH-PRIVATE-KEY": strings.ReplaceAll(key, "\n", "\r\n"),
		"INPUT_NIX-CONFIG": "access-tokens = github.com=ghp_0123456789abcdef gitlab.com=PAT:glpat-secret99\r\nconnect-timeout = 5"})
	a, out := newAction(env)
	MaskSecrets(a)

	masked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		v, ok := strings.CutPrefix(line, "::add-mask::")
		if !ok {
			t.Errorf("MaskSecrets wrote %q, not an add-mask command", line)
		}
		if strings.ContainsAny(v, "\r\n") || strings.Contains(v, "%0A") {
			t.Errorf("mask %q spans lines; the runner masks line by line", v)
		}
		masked[v] = true
	}
	var want []string
	want = append(want, "ghs_test_token_value", signingKey)
	want = append(want, strings.Split(strings.TrimSpace(key), "\n")...)
	// nix-config, line by line like the keys, and each token on its own.
	want = append(want, "access-tokens = github.com=ghp_0123456789abcdef gitlab.com=PAT:glpat-secret99", "connect-timeout = 5",
		"ghp_0123456789abcdef", "PAT:glpat-secret99", "github.com=ghp_0123456789abcdef")
	for _, w := range want {
		if !masked[w] {
			t.Errorf("%q is not masked", w)
		}
	}
	if masked["5"] {
		t.Error("a short nix-config value is masked: it would hide every 5 in the log")
	}
	if masked[strings.TrimSpace(env["INPUT_SSH-KNOWN-HOSTS"])] {
		t.Error("known hosts are public and need no mask")
	}
}

func TestWriteKeys(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	in := &Inputs{SSHKey: strings.TrimSpace(opensshKey("none")), KnownHosts: "web-1 ssh-ed25519 AAAA", SigningKey: signingKey}
	keys, remove, err := WriteKeys(in)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keys.Dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("key directory %v, %v; want mode 0700", st.Mode(), err)
	}
	for path, want := range map[string]string{keys.SSHKey: in.SSHKey + "\n", keys.KnownHosts: in.KnownHosts + "\n", keys.SigningKey: in.SigningKey + "\n"} {
		if filepath.Dir(path) != keys.Dir {
			t.Errorf("%s is not in %s", path, keys.Dir)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", path, st.Mode(), err)
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s holds %q, want %q (ssh wants a final newline)", path, got, want)
		}
	}
	remove()
	if _, err := os.Stat(keys.Dir); !os.IsNotExist(err) {
		t.Errorf("key directory still there after remove: %v", err)
	}
}

func TestWriteKeysSkipsMissing(t *testing.T) {
	keys, remove, err := WriteKeys(&Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if keys.SSHKey != "" || keys.KnownHosts != "" || keys.SigningKey != "" {
		t.Errorf("keys %+v for no inputs", keys)
	}
}
