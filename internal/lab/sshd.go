package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/process"
)

// holderScript runs in a host's new mount and UTS namespaces: it mounts
// the host's directories over /nix, /run, /root and /etc/nix, its own
// /etc/passwd, /etc/group, /etc/hosts and /etc/sudoers.d (with the lab's
// User), names the host, writes its pid (or "failed") and then sleeps for
// as long as the host lives. The script is constant; every value reaches
// it as a positional parameter: $1 log, $2 nix dir, $3 run dir, $4 root
// dir, $5 host name, $6 pid file, $7 etc/nix dir, $8 the dir of its /etc
// files, $9 its boot id file (bound over /proc/sys/kernel/random/boot_id,
// which the lab's reboot changes).
const holderScript = `set -e
exec </dev/null >>"$1" 2>&1
trap 'echo failed >"$6"' EXIT
mount --bind "$2" /nix
mount --bind "$3" /run
mount --bind "$4" /root
mkdir -p /etc/nix
mount --bind "$7" /etc/nix
for f in passwd group hosts; do mount --bind "$8/$f" "/etc/$f"; done
[ ! -d /etc/sudoers.d ] || mount --bind "$8/sudoers.d" /etc/sudoers.d
mount --bind "$9" /proc/sys/kernel/random/boot_id
hostname "$5"
trap - EXIT
echo "$$" >"$6"
exec sleep infinity`

// sshdPath is sshd's absolute path; sshd re-executes itself for every
// connection and refuses to run from a relative one.
const sshdPath = "/usr/sbin/sshd"

// startHolder starts the process that holds a host's mount namespace, so
// that the host keeps its mounts whether or not its sshd runs.
func (l *Lab) startHolder(ctx context.Context, h *Host) error {
	pidFile := filepath.Join(h.Dir, holderPidFile)
	logFile := filepath.Join(h.Dir, holderLogFile)
	args := []string{
		"ip", "netns", "exec", h.Namespace,
		"unshare", "--mount", "--uts", "--propagation", "private",
		"setsid", "-f",
		"sh", "-c", holderScript, "sh",
		logFile, filepath.Join(h.Dir, "nix"), filepath.Join(h.Dir, "run"), filepath.Join(h.Dir, "root"), h.Name, pidFile, filepath.Join(h.Dir, "etc-nix"), filepath.Join(h.Dir, "etc"),
		filepath.Join(h.Dir, bootIDFile),
	}
	if _, err := l.r.Run(ctx, process.Command{Args: args}); err != nil {
		return fmt.Errorf("start host %s: %w", h.Name, err)
	}
	pid, err := waitPidFile(ctx, pidFile, logFile, 0, nil)
	if err != nil {
		return fmt.Errorf("start host %s: %w", h.Name, err)
	}
	l.mu.Lock()
	h.holderPid = pid
	l.mu.Unlock()
	return l.addPid(pid)
}

// StartSSH starts the host's sshd, in the host's namespaces, and returns
// when it accepts connections. It does nothing if the sshd runs already.
func (l *Lab) StartSSH(ctx context.Context, host string) error {
	h, err := l.host(host)
	if err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	l.mu.Lock()
	holder, sshd := h.holderPid, h.sshdPid
	l.mu.Unlock()
	if sshd != 0 && alive(sshd) {
		return nil
	}
	if holder == 0 || !alive(holder) {
		return fmt.Errorf("start sshd on host %s: the host is gone (its namespace holder is not running)", h.Name)
	}
	pidFile := filepath.Join(h.Dir, sshdPidFile)
	logFile := filepath.Join(h.Dir, sshdLogFile)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start sshd on host %s: %w", h.Name, err)
	}
	logStart := fileSize(logFile)
	args := []string{
		"nsenter", "-t", strconv.Itoa(holder), "-n", "-m", "-u", "--",
		sshdPath, "-f", filepath.Join(h.Dir, sshdConfigFile), "-E", logFile,
	}
	// sshd checks its configuration and keys, daemonizes and returns; it
	// writes its pid file once it listens.
	if _, err := l.r.Run(ctx, process.Command{Args: args}); err != nil {
		return fmt.Errorf("start sshd on host %s: %w%s", h.Name, err, logTail(logFile, logStart))
	}
	// The daemon was forked before sshd returned; if nothing but the
	// holder is left in the host, it died.
	gone := func() bool {
		out, err := l.r.Run(ctx, process.Command{Args: []string{"ip", "netns", "pids", h.Namespace}})
		if err != nil {
			return false
		}
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != holder && alive(pid) {
				return false
			}
		}
		return true
	}
	pid, err := waitPidFile(ctx, pidFile, logFile, logStart, gone)
	if err != nil {
		return fmt.Errorf("start sshd on host %s: %w", h.Name, err)
	}
	l.mu.Lock()
	h.sshdPid = pid
	l.mu.Unlock()
	return l.addPid(pid)
}

// StopSSH kills the host's sshd and every ssh session on it (every process
// in the host but the lab's own), so that the host is down for ssh until
// StartSSH. Its files and mounts stay.
func (l *Lab) StopSSH(ctx context.Context, host string) error {
	h, err := l.host(host)
	if err != nil {
		return fmt.Errorf("stop sshd: %w", err)
	}
	l.mu.Lock()
	holder := h.holderPid
	l.mu.Unlock()
	if err := killNamespace(ctx, l.r, h.Namespace, holder); err != nil {
		return fmt.Errorf("stop sshd on host %s: %w", h.Name, err)
	}
	l.mu.Lock()
	h.sshdPid = 0
	l.mu.Unlock()
	if err := os.Remove(filepath.Join(h.Dir, sshdPidFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop sshd on host %s: %w", h.Name, err)
	}
	return nil
}

// waitPidFile waits until pidFile holds a pid and returns it. It fails
// early, with the tail of logFile past logStart, when the file says
// "failed" or gone (if not nil, checked now and then) says the process
// died.
func waitPidFile(ctx context.Context, pidFile, logFile string, logStart int64, gone func() bool) (int, error) {
	deadline := time.Now().Add(readyTimeout)
	for i := 0; ; i++ {
		data, err := os.ReadFile(pidFile)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			s := strings.TrimSpace(string(data))
			if pid, err := strconv.Atoi(s); err == nil && pid > 0 {
				return pid, nil
			}
			return 0, fmt.Errorf("it failed%s", logTail(logFile, logStart))
		}
		if gone != nil && i%10 == 9 && gone() {
			if _, err := os.Stat(pidFile); err != nil {
				return 0, fmt.Errorf("it exited%s", logTail(logFile, logStart))
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("it did not come up within %s%s", readyTimeout, logTail(logFile, logStart))
		}
		if err := ctxtime.Sleep(ctx, 5*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// fileSize returns the size of path, or 0 if it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// logTail returns the last lines of path written past offset from, as
// ":\n    line..." to append to an error, or "" when there are none.
func logTail(path string, from int64) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) <= from {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data[from:])), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return " (" + path + "):\n    " + strings.Join(lines, "\n    ")
}
