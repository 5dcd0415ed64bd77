package process

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/linewriter"
)

func TestExecRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantOut  string
		wantCode int
		wantTail string
	}{
		{name: "stdout", args: []string{"sh", "-c", "echo hello"}, wantOut: "hello\n"},
		{name: "exit code and tail", args: []string{"sh", "-c", "echo one >&2; echo two >&2; exit 3"}, wantCode: 3, wantTail: "one\ntwo"},
		{name: "extra env", args: []string{"sh", "-c", `printf %s "$FOO"`}, env: []string{"FOO=bar"}, wantOut: "bar"},
		{name: "secrets removed", args: []string{"sh", "-c", `printf %s "${GITHUB_TOKEN-unset}${INPUT_SSH_PRIVATE_KEY-unset}"`}, wantOut: "unsetunset"},
		{name: "AWS credentials removed", args: []string{"sh", "-c", `printf %s "${AWS_ACCESS_KEY_ID-unset}${AWS_SECRET_ACCESS_KEY-unset}${AWS_SESSION_TOKEN-unset}"`}, wantOut: "unsetunsetunset"},
		{name: "not found", args: []string{"/nonexistent/program"}, wantCode: -1},
	}
	e := &Exec{Environ: []string{"PATH=/usr/bin:/bin", "GITHUB_TOKEN=ghs_secret", "INPUT_SSH_PRIVATE_KEY=key",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=token"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.Run(context.Background(), Command{Args: tt.args, Env: tt.env})
			if string(out) != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CommandError", err)
			}
			if ce.ExitCode != tt.wantCode {
				t.Errorf("exit code = %d, want %d", ce.ExitCode, tt.wantCode)
			}
			if ce.StderrTail != tt.wantTail {
				t.Errorf("tail = %q, want %q", ce.StderrTail, tt.wantTail)
			}
		})
	}
}

func TestExecStreamsStderr(t *testing.T) {
	var live bytes.Buffer
	_, err := (&Exec{}).Run(context.Background(), Command{Args: []string{"sh", "-c", "echo progress >&2"}, Stderr: &live})
	if err != nil {
		t.Fatal(err)
	}
	if live.String() != "progress\n" {
		t.Errorf("streamed stderr = %q", live.String())
	}
}

func TestExecCancelKillsProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exec{Grace: 200 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		// The child ignores SIGINT, so only the group kill ends it; the
		// grandchild sleep must not keep Run waiting either.
		_, err := e.Run(ctx, Command{Args: []string{"sh", "-c", "trap '' INT; sleep 30 & wait"}})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled command did not end")
	}
}

func TestTailKeepsLastLines(t *testing.T) {
	tb := &tailBuffer{max: 2}
	tb.Write([]byte("a\nb\nc\nd"))
	if got := tb.String(); got != "c\nd" {
		t.Errorf("tail = %q", got)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"/nix/store/abc-system", "/nix/store/abc-system"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(reboot)", "'$(reboot)'"},
		{"x;rm -rf /", "'x;rm -rf /'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteRoundTripsThroughShell(t *testing.T) {
	words := []string{"plain", "with space", "it's", `back\slash`, "$HOME", "`id`", "\"dq\"", "new\nline", ""}
	out, err := (&Exec{}).Run(context.Background(), Command{Args: []string{"sh", "-c", `for a in ` + QuoteArgs(words) + `; do printf '%s\0' "$a"; done`}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if strings.Join(got, "|") != strings.Join(words, "|") {
		t.Errorf("round trip = %q, want %q", got, words)
	}
}

func TestCommandName(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "command"},
		{[]string{"nix-store"}, "nix-store"},
		{[]string{"nix-store", "--realise", "/nix/store/x"}, "nix-store --realise"},
		{[]string{"ssh", "-F", "/c", "-o", "LogLevel=ERROR", "web-2", "--", "true"}, "ssh to web-2"},
		{[]string{"ssh", "-G", "web-2"}, "ssh -G"},
	}
	for _, tt := range tests {
		if got := commandName(tt.args); got != tt.want {
			t.Errorf("commandName(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestFilterEnvKeep(t *testing.T) {
	env := []string{"PATH=/bin", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_PROFILE=deploy", "GITHUB_TOKEN=ghs_secret", "INPUT_GOAL=switch"}
	tests := []struct {
		name string
		keep []string
		want []string
	}{
		{"every secret removed", nil, []string{"PATH=/bin"}},
		{"AWS kept for an S3 store", []string{AWSPrefix}, []string{"PATH=/bin", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_PROFILE=deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := filterEnv(env, tt.keep); !slices.Equal(got, tt.want) {
				t.Errorf("filterEnv(keep %q) = %q, want %q", tt.keep, got, tt.want)
			}
		})
	}
	if got := FilterEnv(env); !slices.Equal(got, []string{"PATH=/bin"}) {
		t.Errorf("FilterEnv = %q", got)
	}
}

// TestExecFlushesLineWriters: a command's last line without a newline
// reaches a line-buffered writer when the command ends.
func TestExecFlushesLineWriters(t *testing.T) {
	var out strings.Builder
	shared := linewriter.NewShared(&out)
	c := Command{Args: []string{"sh", "-c", "printf 'one\\ntwo' >&2; printf 'three'"},
		Stdout: shared.Prefixed("out| "), Stderr: shared.Prefixed("err| ")}
	if _, err := (&Exec{}).Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"err| one\n", "err| two\n", "out| three\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
