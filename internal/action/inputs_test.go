package action

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deployments/record"
	"github.com/nix-hive/nix-hive/internal/goal"
)

func TestParseDefaults(t *testing.T) {
	env := fakeEnv(t, nil)
	in, run, err := Parse(mustAction(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Inputs{
		Hive: filepath.Join(env["GITHUB_WORKSPACE"], "hive.nix"), Goal: goal.Switch, Parallel: 10,
		Record: true, RecordMode: record.Auto, Environment: Template{text: DefaultEnvironment}, Token: "ghs_test_token_value",
		Rollout: Rollout{RebootTimeout: activation.DefaultRebootTimeout},
		SSHKey:  strings.TrimSpace(opensshKey("none")), KnownHosts: strings.TrimSpace(env["INPUT_SSH-KNOWN-HOSTS"]), SigningKey: signingKey,
		Command: Deploy,
	}
	if !reflect.DeepEqual(*in, want) {
		t.Errorf("inputs\n got %+v\nwant %+v", *in, want)
	}
	if run.Owner != "acme" || run.Repo != "fleet" || run.SHA != testSHA || run.RunID != 4242 || run.RunAttempt != 1 ||
		run.Job != "deploy" || run.RunnerName != "GitHub Actions 7" || run.Trigger.Event != "push" || run.Trigger.Actor != "alice" {
		t.Errorf("run %+v", run)
	}
	if got := run.URL(); got != "https://github.com/acme/fleet/actions/runs/4242/attempts/1" {
		t.Errorf("run URL %s", got)
	}
	if got := run.EnvironmentURL("production/web-1"); got != "https://github.com/acme/fleet/deployments/production%2Fweb-1" {
		t.Errorf("environment URL %s", got)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		edit  map[string]string
		check func(t *testing.T, in *Inputs)
	}{
		{"every input", map[string]string{
			"INPUT_HIVE": "hive.nix", "INPUT_TARGETS": "web-*,@eu", "INPUT_GOAL": "boot", "INPUT_PARALLEL": " 3 ",
			"INPUT_ENVIRONMENT": "{system}-{instance}", "INPUT_DRY-RUN": "False", "INPUT_RECORD-DEPLOYMENTS": "TRUE",
			"INPUT_NIX-CONFIG": "substituters = https://cache.example.org\n# a comment\n\nconnect-timeout = 5",
		}, func(t *testing.T, in *Inputs) {
			if in.Targets != "web-*,@eu" || in.Goal != goal.Boot || in.Parallel != 3 || in.DryRun || !in.Record ||
				in.Environment.String() != "{system}-{instance}" || !strings.Contains(in.NixConfig, "connect-timeout = 5") {
				t.Errorf("%+v", in)
			}
		}},
		{"build needs no ssh key", map[string]string{"INPUT_GOAL": "build", "INPUT_SSH-PRIVATE-KEY": ""}, func(t *testing.T, in *Inputs) {
			if in.SSHKey != "" || in.Goal != goal.Build {
				t.Errorf("%+v", in)
			}
		}},
		{"a dry run needs no ssh key or token and records nothing",
			map[string]string{"INPUT_DRY-RUN": "true", "INPUT_SSH-PRIVATE-KEY": "", "INPUT_GITHUB-TOKEN": ""}, func(t *testing.T, in *Inputs) {
				if !in.DryRun || in.Record {
					t.Errorf("%+v", in)
				}
			}},
		{"no token when not recording", map[string]string{"INPUT_RECORD-DEPLOYMENTS": "false", "INPUT_GITHUB-TOKEN": ""}, func(t *testing.T, in *Inputs) {
			if in.Record || in.RecordMode != record.None {
				t.Errorf("%+v", in)
			}
		}},
		{"record-deployments defaults to auto", nil, func(t *testing.T, in *Inputs) {
			if !in.Record || in.RecordMode != record.Auto || in.RecordUnchanged {
				t.Errorf("%+v", in)
			}
		}},
		{"record-deployments true is auto", map[string]string{"INPUT_RECORD-DEPLOYMENTS": "true"}, func(t *testing.T, in *Inputs) {
			if in.RecordMode != record.Auto {
				t.Errorf("%+v", in)
			}
		}},
		{"record-deployments per-environment, unchanged too", map[string]string{"INPUT_RECORD-DEPLOYMENTS": "per-environment", "INPUT_RECORD-UNCHANGED": "true"},
			func(t *testing.T, in *Inputs) {
				if !in.Record || in.RecordMode != record.PerEnvironment || !in.RecordUnchanged {
					t.Errorf("%+v", in)
				}
			}},
		{"record-deployments none", map[string]string{"INPUT_RECORD-DEPLOYMENTS": "none", "INPUT_GITHUB-TOKEN": ""}, func(t *testing.T, in *Inputs) {
			if in.Record {
				t.Errorf("%+v", in)
			}
		}},
		{"a key pasted with CRLF", map[string]string{"INPUT_SSH-PRIVATE-KEY": strings.ReplaceAll(opensshKey("none"), "\n", "\r\n")}, func(t *testing.T, in *Inputs) {
			if strings.Contains(in.SSHKey, "\r") {
				t.Errorf("key keeps CR")
			}
		}},
		{"a PEM key", map[string]string{"INPUT_SSH-PRIVATE-KEY": "-----BEGIN RSA PRIVATE KEY-----\nTUlJQ1hBSUJBQUtCZ1FD\n-----END RSA PRIVATE KEY-----"}, nil},
		{"an absolute hive", map[string]string{"INPUT_HIVE": "/"}, func(t *testing.T, in *Inputs) {
			if in.Hive != "/" {
				t.Errorf("hive %s", in.Hive)
			}
		}},
		{"a flake output", map[string]string{"INPUT_HIVE": ".#hives.prod"}, func(t *testing.T, in *Inputs) {
			if !strings.HasSuffix(in.Hive, "#hives.prod") || !filepath.IsAbs(in.Hive) {
				t.Errorf("hive %s", in.Hive)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _, err := Parse(mustAction(fakeEnv(t, tt.edit)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, in)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	encryptedPEM := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nTUlJQ1hBSUJBQUtCZ1FD\n-----END RSA PRIVATE KEY-----"
	tests := []struct {
		name string
		edit map[string]string
		want string // in the error
	}{
		{"unknown goal", map[string]string{"INPUT_GOAL": "deploy"}, `input goal: unknown goal "deploy"`},
		{"parallel 0", map[string]string{"INPUT_PARALLEL": "0"}, `input parallel: "0" is not a whole number of at least 1`},
		{"parallel negative", map[string]string{"INPUT_PARALLEL": "-2"}, `input parallel: "-2"`},
		{"parallel not a number", map[string]string{"INPUT_PARALLEL": "ten"}, `input parallel: "ten"`},
		{"dry-run not a boolean", map[string]string{"INPUT_DRY-RUN": "yes"}, `input dry-run: "yes" is not a boolean`},
		{"record-deployments not a mode", map[string]string{"INPUT_RECORD-DEPLOYMENTS": "1"}, `input record-deployments: "1" is not auto, per-instance, per-environment or none`},
		{"record-unchanged not a boolean", map[string]string{"INPUT_RECORD-UNCHANGED": "yes"}, `input record-unchanged: "yes" is not a boolean`},
		{"unknown placeholder", map[string]string{"INPUT_ENVIRONMENT": "{environment}/{host}"}, `input environment: "{environment}/{host}" uses the unknown placeholder {host}`},
		{"unclosed placeholder", map[string]string{"INPUT_ENVIRONMENT": "prod-{instance"}, `input environment: "prod-{instance" has a { without a }`},
		{"stray brace", map[string]string{"INPUT_ENVIRONMENT": "prod}"}, `input environment: "prod}" has a } without a {`},
		{"bad targets", map[string]string{"INPUT_TARGETS": "web;reboot"}, `input targets: `},
		{"missing hive", map[string]string{"INPUT_HIVE": "nope/hive.nix"}, `input hive: `},
		{"no token", map[string]string{"INPUT_GITHUB-TOKEN": ""}, `input github-token: is empty`},
		{"no ssh key", map[string]string{"INPUT_SSH-PRIVATE-KEY": ""}, `input ssh-private-key: is empty, and goal switch logs in`},
		{"ssh key not a key", map[string]string{"INPUT_SSH-PRIVATE-KEY": "hunter2-not-a-key\nsecond line\nthird line"}, `input ssh-private-key: not a usable key: expected an OpenSSH private key`},
		{"ssh key is public", map[string]string{"INPUT_SSH-PRIVATE-KEY": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake me@host"}, `input ssh-private-key: not a usable key: this is a public key`},
		{"ssh key body not base64", map[string]string{"INPUT_SSH-PRIVATE-KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----"}, `input ssh-private-key: not a usable key: the OpenSSH private key's body is not base64`},
		{"ssh key with passphrase", map[string]string{"INPUT_SSH-PRIVATE-KEY": opensshKey("aes256-ctr")}, `input ssh-private-key: not a usable key: the key is passphrase-protected`},
		{"PEM key with passphrase", map[string]string{"INPUT_SSH-PRIVATE-KEY": encryptedPEM}, `input ssh-private-key: not a usable key: the key is passphrase-protected`},
		{"signing key malformed", map[string]string{"INPUT_SIGNING-KEY": "no-colon-here"}, `input signing-key: not a usable key: expected a nix secret key`},
		{"signing key is public", map[string]string{"INPUT_SIGNING-KEY": "store-eu:5dvNM4cMjcCMoHprEWsWv27cvz9+GjTpJQPD3m5mAmg="}, `input signing-key: not a usable key: the nix secret key's base64 part is not a 64-byte ed25519 secret key (is it the public key?)`},
		{"known hosts malformed", map[string]string{"INPUT_SSH-KNOWN-HOSTS": "# comment\nweb-1 ssh-ed25519"}, `input ssh-known-hosts: line 2 is not a known_hosts entry`},
		{"nix config malformed", map[string]string{"INPUT_NIX-CONFIG": "substituters = x\nsandbox"}, `input nix-config: line 2 ("sandbox")`},
		{"no GITHUB_REPOSITORY", map[string]string{"GITHUB_REPOSITORY": ""}, `GITHUB_REPOSITORY "" is not OWNER/REPO`},
		{"no GITHUB_SHA", map[string]string{"GITHUB_SHA": ""}, `GITHUB_SHA "" is not a commit id`},
		{"bad GITHUB_RUN_ID", map[string]string{"GITHUB_RUN_ID": "x"}, `read the GITHUB_* variables`},
		{"bad GITHUB_API_URL", map[string]string{"GITHUB_API_URL": "api.github.com"}, `GITHUB_API_URL "api.github.com" is not an http(s) URL`},
		{"unreadable event", map[string]string{"GITHUB_EVENT_PATH": "/"}, `read the event (GITHUB_EVENT_PATH)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := fakeEnv(t, tt.edit)
			_, _, err := Parse(mustAction(env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			for _, secret := range []string{"ghs_test_token_value", "secret-key-material", "hunter2", "TUlJQ1hBSUJB", strings.TrimPrefix(signingKey, "store-eu:")} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes a secret: %v", err)
				}
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, _, err := Parse(mustAction(fakeEnv(t, map[string]string{"INPUT_GOAL": "x", "INPUT_PARALLEL": "0", "GITHUB_SHA": ""})))
	for _, want := range []string{"input goal", "input parallel", "GITHUB_SHA"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
