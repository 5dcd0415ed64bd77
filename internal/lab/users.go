package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// User is the login every lab host has besides root: not root, with
// passwordless sudo (and the lab key, as root has), for deployments as a
// sudo user. Tests take its sudo away on one host by removing the file
// SudoersFile inside that host.
const User = "deploy"

// SudoersFile is the file inside a host that gives User passwordless sudo.
const SudoersFile = "/etc/sudoers.d/nix-hive-lab"

// userID is User's uid and gid, when the runner has no such user.
const userID = 64123

// etcFiles are the runner's files under /etc that each host gets its own
// copy of (bind-mounted in the host's mount namespace), so that User
// exists on the hosts only and each host says who it is.
func etcFiles() []string { return []string{"passwd", "group", "hosts"} }

// makeHostEtc writes a host's own /etc/passwd, /etc/group and /etc/hosts
// (the runner's, with User and the host's name added), /etc/sudoers.d (the
// runner's, with SudoersFile) and User's home directory in the host's /run.
func makeHostEtc(h *Host) error {
	dir := filepath.Join(h.Dir, "etc")
	if err := os.MkdirAll(filepath.Join(dir, "sudoers.d"), 0o755); err != nil {
		return fmt.Errorf("make the /etc of host %s: %w", h.Name, err)
	}
	home := "/run/" + User
	extra := map[string]string{
		"passwd": fmt.Sprintf("%s:*:%d:%d:nix-hive lab deployer:%s:/bin/sh\n", User, userID, userID, home) +
			fmt.Sprintf("%s:*:%d:%d:Nix SSH store user:/:/bin/sh\n", ServeUser, serveUserID, serveUserID),
		"group": fmt.Sprintf("%s:x:%d:\n", User, userID) + fmt.Sprintf("%s:x:%d:\n", ServeUser, serveUserID),
		"hosts": fmt.Sprintf("127.0.1.1 %s\n", h.Name),
	}
	for _, name := range etcFiles() {
		data, err := os.ReadFile("/etc/" + name)
		if err != nil {
			return fmt.Errorf("make the /etc of host %s: %w", h.Name, err)
		}
		text := string(data)
		if name == "hosts" || !strings.Contains("\n"+text, "\n"+User+":") {
			text = strings.TrimSuffix(text, "\n") + "\n" + extra[name]
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("make the /etc of host %s: %w", h.Name, err)
		}
	}
	if err := copySudoers(filepath.Join(dir, "sudoers.d")); err != nil {
		return fmt.Errorf("make the sudoers of host %s: %w", h.Name, err)
	}
	homeDir := filepath.Join(h.Dir, "run", User)
	if err := os.MkdirAll(homeDir, 0o700); err != nil {
		return fmt.Errorf("make the home of %s on host %s: %w", User, h.Name, err)
	}
	uid, gid := lookupIDs("/etc/passwd", User)
	if err := os.Chown(homeDir, uid, gid); err != nil {
		return fmt.Errorf("make the home of %s on host %s: %w", User, h.Name, err)
	}
	return nil
}

// copySudoers copies the runner's /etc/sudoers.d into dir and adds the
// file that gives User passwordless sudo (sudo wants them root's, 0440).
func copySudoers(dir string) error {
	entries, _ := os.ReadDir("/etc/sudoers.d")
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/etc/sudoers.d", e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o440); err != nil {
			return err
		}
	}
	rule := fmt.Sprintf("# nix-hive lab: %s may run anything as root without a password.\n%s ALL=(ALL:ALL) NOPASSWD: ALL\n", User, User)
	return os.WriteFile(filepath.Join(dir, filepath.Base(SudoersFile)), []byte(rule), 0o440)
}

// lookupIDs returns user's uid and gid from a passwd file, or userID when
// it is not there (the lab adds it to the hosts only).
func lookupIDs(passwd, user string) (int, int) {
	data, _ := os.ReadFile(passwd)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == user {
			var uid, gid int
			if _, err := fmt.Sscan(f[2], &uid); err == nil {
				if _, err := fmt.Sscan(f[3], &gid); err == nil {
					return uid, gid
				}
			}
		}
	}
	return userID, userID
}
