package lab

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Files of a host's reboots, under its Dir.
const (
	bootIDFile    = "boot_id"    // bound over the host's /proc/sys/kernel/random/boot_id
	bootDelayFile = "boot-delay" // seconds a reboot takes before sshd is back
	rebootLogFile = "reboot.log"
)

// rebootPath is where a host finds the lab's reboot: first in the PATH
// nix-hive's agent runs with after /run/current-system/sw/bin, and inside
// the host's private /nix, so the machine's own reboot is never reached.
const rebootPath = "nix/var/nix/profiles/default/bin/reboot"

// rebootScript is the lab's stand-in for reboot(8), run inside a host: it
// detaches, kills every process of the host but the namespace holder (its
// services and ssh sessions die, as in a reboot), gives the host a new
// boot id, empties /run (a tmpfs on a real host), boots the system
// profile (/run/current-system and /run/booted-system point at it),
// waits the host's boot delay and starts its sshd again. Its values, the
// host's directory and the lab's User (whose home is in /run), are set in
// the lines that precede it.
const rebootScript = `
if [ "${1-}" != --now ]; then
	setsid "$0" --now </dev/null >>"$dir/` + rebootLogFile + `" 2>&1 &
	exit 0
fi
sleep 0.5
holder=$(cat "$dir/` + holderPidFile + `")
net=$(readlink /proc/self/ns/net)
for p in /proc/[0-9]*; do
	p=${p#/proc/}
	{ [ "$p" = "$$" ] || [ "$p" = "$holder" ]; } && continue
	[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$net" ] && kill -9 "$p" 2>/dev/null
done
cat /proc/sys/kernel/random/uuid >"$dir/` + bootIDFile + `"
find /run -mindepth 1 -maxdepth 1 ! -name sshd ! -name "$user" -exec rm -rf {} +
mkdir -p /run/sshd
sys=$(readlink -f /nix/var/nix/profiles/system 2>/dev/null)
if [ -n "$sys" ] && [ -e "$sys" ]; then
	ln -sfn "$sys" /run/current-system
	ln -sfn "$sys" /run/booted-system
fi
sleep "$(cat "$dir/` + bootDelayFile + `" 2>/dev/null || echo 0)"
echo "booted $(cat "$dir/` + bootIDFile + `") into ${sys:-nothing}"
exec ` + sshdPath + ` -f "$dir/` + sshdConfigFile + `" -E "$dir/` + sshdLogFile + `"
`

// makeRebootable gives a host its boot id file and the lab's reboot.
func makeRebootable(h *Host) error {
	if err := os.WriteFile(filepath.Join(h.Dir, bootIDFile), []byte(newBootID()+"\n"), 0o444); err != nil {
		return fmt.Errorf("write the boot id of host %s: %w", h.Name, err)
	}
	reboot := filepath.Join(h.Dir, rebootPath)
	if err := os.MkdirAll(filepath.Dir(reboot), 0o755); err != nil {
		return fmt.Errorf("install reboot on host %s: %w", h.Name, err)
	}
	script := "#!/bin/sh\n# The lab's stand-in for reboot(8).\ndir=" + process.Quote(h.Dir) + "\nuser=" + process.Quote(User) + "\n" + rebootScript
	if err := os.WriteFile(reboot, []byte(script), 0o755); err != nil {
		return fmt.Errorf("install reboot on host %s: %w", h.Name, err)
	}
	return nil
}

// SetBootDelay makes the host's reboots take d before its sshd answers
// again (a slow or hanging boot).
func (l *Lab) SetBootDelay(host string, d time.Duration) error {
	h, err := l.host(host)
	if err != nil {
		return fmt.Errorf("set the boot delay: %w", err)
	}
	secs := strconv.Itoa(int(d.Seconds()))
	if err := os.WriteFile(filepath.Join(h.Dir, bootDelayFile), []byte(secs+"\n"), 0o644); err != nil {
		return fmt.Errorf("set the boot delay of host %s: %w", h.Name, err)
	}
	return nil
}

// BootID returns the host's current boot id.
func (l *Lab) BootID(host string) (string, error) {
	h, err := l.host(host)
	if err != nil {
		return "", fmt.Errorf("read the boot id: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(h.Dir, bootIDFile))
	if err != nil {
		return "", fmt.Errorf("read the boot id of host %s: %w", h.Name, err)
	}
	return string(data[:len(data)-1]), nil
}

func newBootID() string {
	return rand.Text()
}
