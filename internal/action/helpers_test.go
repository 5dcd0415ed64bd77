package action

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/action/actiontest"
)

const testSHA = "0123456789abcdef0123456789abcdef01234567"

// opensshKey returns a private key block in OpenSSH's format with the
// given cipher ("none" for a key without a passphrase). Only its envelope
// is real; keyfile reads no further.
func opensshKey(cipher string) string {
	var blob bytes.Buffer
	blob.WriteString("openssh-key-v1\x00")
	for _, s := range []string{cipher, "none", ""} {
		_ = binary.Write(&blob, binary.BigEndian, uint32(len(s)))
		blob.WriteString(s)
	}
	blob.WriteString(strings.Repeat("\x07secret-key-material", 8))
	enc := base64.StdEncoding.EncodeToString(blob.Bytes())
	var b strings.Builder
	b.WriteString("-----BEGIN OPENSSH PRIVATE KEY-----\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n-----END OPENSSH PRIVATE KEY-----\n")
	return b.String()
}

// signingKey is a nix secret key: NAME:BASE64 of 64 bytes.
var signingKey = "store-eu:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 64))

// fakeEnv is the environment of a test run: valid inputs and run
// variables, changed by edit (an empty value removes a variable).
func fakeEnv(t *testing.T, edit map[string]string) map[string]string {
	t.Helper()
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "hive.nix"), []byte("{ }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"INPUT_GITHUB-TOKEN":    "ghs_test_token_value",
		"INPUT_SSH-PRIVATE-KEY": opensshKey("none"),
		"INPUT_SSH-KNOWN-HOSTS": "web-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKey\n",
		"INPUT_SIGNING-KEY":     signingKey,
		"GITHUB_REPOSITORY":     "acme/fleet",
		"GITHUB_SHA":            testSHA,
		"GITHUB_RUN_ID":         "4242",
		"GITHUB_RUN_ATTEMPT":    "1",
		"GITHUB_WORKSPACE":      ws,
		"GITHUB_SERVER_URL":     "https://github.com",
		"GITHUB_API_URL":        "https://api.github.com",
		"GITHUB_EVENT_NAME":     "push",
		"GITHUB_ACTOR":          "alice",
		"GITHUB_JOB":            "deploy",
		"RUNNER_NAME":           "GitHub Actions 7",
		"GITHUB_OUTPUT":         filepath.Join(ws, "output"),
		"GITHUB_STEP_SUMMARY":   filepath.Join(ws, "summary"),
	}
	return actiontest.Edit(env, edit)
}

// newAction returns an Action reading env and writing to the returned
// buffer, never the process's environment or stdout.
func newAction(env map[string]string) (*githubactions.Action, *bytes.Buffer) {
	var out bytes.Buffer
	a := githubactions.New(
		githubactions.WithGetenv(func(k string) string { return env[k] }),
		githubactions.WithWriter(&out),
	)
	return a, &out
}

func mustAction(env map[string]string) *githubactions.Action {
	a, _ := newAction(env)
	return a
}
