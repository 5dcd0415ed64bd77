package health

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func TestCheckResponse(t *testing.T) {
	tests := []struct {
		name, raw string
		want      int
		wantErr   string
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, ""},
		{"another status wanted", "HTTP/1.0 204 No Content\r\n\r\n", 204, ""},
		{"down", "HTTP/1.1 503 Service Unavailable\r\n\r\nservice down: no database\n", 200, "got 503 Service Unavailable, want 200; the response: service down: no database"},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", 200, "not an HTTP response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckResponse([]byte(tt.raw), tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestCheck runs checks on a fake runner: their commands, retries,
// pauses and errors.
func TestCheck(t *testing.T) {
	cfg := &sshconfig.Config{Path: "/run/cfg"}
	fail := &process.CommandError{Args: []string{"ssh"}, ExitCode: 1, StderrTail: "not ready"}
	tests := []struct {
		name    string
		check   inventory.HealthCheck
		replies []error // one per attempt
		wantErr string
		sleeps  int
	}{
		{"a command that passes", inventory.HealthCheck{Command: []string{"systemctl", "is-active", "db; reboot"}, Retries: 3, Period: 2, Timeout: 5},
			[]error{nil}, "", 0},
		{"a command that passes the third time", inventory.HealthCheck{Command: []string{"true"}, Retries: 3, Period: 2, Timeout: 5},
			[]error{fail, fail, nil}, "", 2},
		{"a command that keeps failing", inventory.HealthCheck{Command: []string{"false"}, Retries: 2, Period: 1, Timeout: 5},
			[]error{fail, fail}, "health check c (false) failed 2 times; the last time: ssh failed with exit code 1:\n    not ready", 1},
		{"an HTTP check", inventory.HealthCheck{HTTP: &inventory.HTTPCheck{Host: "localhost", Port: 8080, Path: "/health", Status: 200}, Retries: 1, Period: 1, Timeout: 5},
			[]error{nil}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := processtest.New(t)
			attempt := 0
			prefix := []string{"ssh", "-F", "/run/cfg", "-o", "LogLevel=ERROR", "web-1", "--", process.QuoteArgs(tt.check.Command)}
			answer := ""
			if tt.check.HTTP != nil {
				prefix = []string{"ssh", "-F", "/run/cfg", "-o", "LogLevel=ERROR", "-W", "localhost:8080", "web-1"}
				answer = "HTTP/1.1 200 OK\r\n\r\nok"
			}
			r.Respond(prefix, func(c process.Command) (string, error) {
				if tt.check.HTTP != nil {
					req, _ := io.ReadAll(c.Stdin)
					if !strings.HasPrefix(string(req), "GET /health HTTP/1.0\r\nHost: localhost:8080\r\n") {
						t.Errorf("request %q", req)
					}
				}
				err := tt.replies[attempt]
				attempt++
				return answer, err
			})
			sleeps := 0
			c := &Checker{Runner: r, SSH: cfg, Sleep: func(_ context.Context, d time.Duration) error {
				if d != time.Duration(tt.check.Period)*time.Second {
					t.Errorf("pause %s", d)
				}
				sleeps++
				return nil
			}, Inventory: &inventory.Inventory{
				Instances:    map[string]inventory.Instance{"web-1": {System: "web"}},
				HealthChecks: map[string]map[string]inventory.HealthCheck{"web": {"c": tt.check}},
			}}
			err := c.Check(context.Background(), "web-1")
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if attempt != len(tt.replies) || sleeps != tt.sleeps {
				t.Errorf("%d attempts, %d pauses; want %d, %d", attempt, sleeps, len(tt.replies), tt.sleeps)
			}
			if err != nil && !errors.As(err, new(*process.CommandError)) {
				t.Errorf("the error does not wrap the command's: %v", err)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	got := Budget(map[string]inventory.HealthCheck{"a": {Retries: 3, Period: 2, Timeout: 10}, "b": {Retries: 1, Period: 5, Timeout: 1}})
	if want := (30 + 4 + 1) * time.Second; got != want {
		t.Errorf("Budget = %s, want %s", got, want)
	}
}
