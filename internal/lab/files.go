package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Files of a host, under its Dir.
const (
	hostKeyFile    = "ssh_host_ed25519_key"
	sshdConfigFile = "sshd_config"
	sshdPidFile    = "sshd.pid"
	sshdLogFile    = "sshd.log"
	holderPidFile  = "holder.pid"
	holderLogFile  = "holder.log"
)

// makeLabKey makes the key that root on every host accepts.
func (l *Lab) makeLabKey(ctx context.Context) error {
	if err := keygen(ctx, l.r, l.Key, "nix-hive-lab"); err != nil {
		return fmt.Errorf("make the lab's ssh key: %w", err)
	}
	return nil
}

// hostNixConf is every host's /etc/nix/nix.conf: lab hosts are offline,
// so they know no binary cache but the ones a deployment names.
const hostNixConf = `# A lab host's nix.conf: no sandbox (as Debian's nix-bin), no default binary cache.
sandbox = false
substituters =
`

// makeHostDirs makes a host's directories, host key and sshd_config.
func (l *Lab) makeHostDirs(ctx context.Context, h *Host) error {
	for _, d := range []string{"nix", "run/sshd", "root/.ssh", "etc-nix"} {
		if err := os.MkdirAll(filepath.Join(h.Dir, d), 0o755); err != nil {
			return fmt.Errorf("make the directories of host %s: %w", h.Name, err)
		}
	}
	// sshd insists on a privilege separation directory nobody else can
	// write to; ssh on a private /root on a private .ssh.
	for d, mode := range map[string]os.FileMode{"run/sshd": 0o755, "root": 0o700, "root/.ssh": 0o700} {
		if err := os.Chmod(filepath.Join(h.Dir, d), mode); err != nil {
			return fmt.Errorf("make the directories of host %s: %w", h.Name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(h.Dir, "etc-nix", "nix.conf"), []byte(hostNixConf), 0o644); err != nil {
		return fmt.Errorf("write the nix.conf of host %s: %w", h.Name, err)
	}
	if err := makeHostEtc(h); err != nil {
		return err
	}
	if err := makeRebootable(h); err != nil {
		return err
	}
	key := filepath.Join(h.Dir, hostKeyFile)
	if err := keygen(ctx, l.r, key, "root@"+h.Name); err != nil {
		return fmt.Errorf("make the host key of host %s: %w", h.Name, err)
	}
	pub, err := readPublicKey(key + ".pub")
	if err != nil {
		return fmt.Errorf("make the host key of host %s: %w", h.Name, err)
	}
	h.HostKey = pub
	cfg := sshdConfig(h, filepath.Join(l.Dir, "authorized_keys"))
	if err := os.WriteFile(filepath.Join(h.Dir, sshdConfigFile), []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("write the sshd_config of host %s: %w", h.Name, err)
	}
	return nil
}

// writeKeyFiles writes the lab's authorized_keys and known_hosts, and gives
// each host's /root/.ssh the lab key and known_hosts, so that hosts reach
// each other as the runner reaches them.
func (l *Lab) writeKeyFiles() error {
	labPub, err := readPublicKey(l.Key + ".pub")
	if err != nil {
		return fmt.Errorf("read the lab's ssh key: %w", err)
	}
	private, err := os.ReadFile(l.Key)
	if err != nil {
		return fmt.Errorf("read the lab's ssh key: %w", err)
	}
	known := knownHosts(l.order)
	files := map[string]string{
		filepath.Join(l.Dir, "authorized_keys"): labPub + "\n",
		l.KnownHosts:                            known,
	}
	// sshd reads the authorized keys as the user logging in: the lab's
	// User too, so its directory is searchable and the file readable.
	if err := os.Chmod(l.Dir, 0o711); err != nil {
		return fmt.Errorf("write lab key files: %w", err)
	}
	for _, h := range l.order {
		ssh := filepath.Join(h.Dir, "root", ".ssh")
		files[filepath.Join(ssh, "id_ed25519")] = string(private)
		files[filepath.Join(ssh, "id_ed25519.pub")] = labPub + "\n"
		files[filepath.Join(ssh, "known_hosts")] = known
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return fmt.Errorf("write lab key files: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(l.Dir, "authorized_keys"), 0o644); err != nil {
		return fmt.Errorf("write lab key files: %w", err)
	}
	return nil
}

// keygen makes an ed25519 key pair without a passphrase.
func keygen(ctx context.Context, r process.Runner, path, comment string) error {
	_, err := r.Run(ctx, process.Command{Args: []string{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path}})
	return err
}

// readPublicKey returns the "TYPE BASE64" part of an OpenSSH public key
// file, without its comment.
func readPublicKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return "", fmt.Errorf("%s is not an OpenSSH public key", path)
	}
	return f[0] + " " + f[1], nil
}

// knownHosts lists every host's key under every address it has.
func knownHosts(hosts []*Host) string {
	var b strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s %s\n", strings.Join(h.addrs(), ","), h.HostKey)
	}
	return b.String()
}

// sshdConfig is a host's sshd_config: its own key, addresses, pid file
// (outside its /run) and the lab's authorized_keys, root by key only. It
// reads nothing from /etc/ssh.
func sshdConfig(h *Host, authorizedKeys string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# nix-hive lab host %s\n", h.Name)
	b.WriteString("Port 22\nAddressFamily inet\n")
	for _, a := range h.addrs() {
		fmt.Fprintf(&b, "ListenAddress %s\n", a)
	}
	fmt.Fprintf(&b, "HostKey %s\n", filepath.Join(h.Dir, hostKeyFile))
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(h.Dir, sshdPidFile))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", authorizedKeys)
	b.WriteString(`PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
LogLevel VERBOSE
`)
	if h.Serve {
		b.WriteString(serveMatch)
	}
	return b.String()
}
