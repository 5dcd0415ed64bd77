package hostkeys

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHosts is an index of known_hosts files: the lines that name hosts
// literally by name, for a lookup in constant time, and the lines with
// patterns or hashed names, which every lookup tests in turn (as ssh does).
type KnownHosts struct {
	literal  map[string][]entry
	patterns []entry
	hashed   []entry
	revoked  map[string]bool // marshalled keys of @revoked lines
}

// entry is one known_hosts line that can make a host known.
type entry struct {
	hosts     []string // patterns ("*.example.com", "!bad", "[h]:2222")
	salt, sum []byte   // a hashed name's salt and HMAC
	key       ssh.PublicKey
}

// ReadKnownHosts reads and indexes files; a file that does not exist is
// skipped, as ssh does, and so is a line ssh would not read.
func ReadKnownHosts(files []string) (*KnownHosts, error) {
	k := &KnownHosts{literal: map[string][]entry{}, revoked: map[string]bool{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read known hosts: %w", err)
		}
		k.add(data)
	}
	return k, nil
}

// add indexes the lines of one file.
func (k *KnownHosts) add(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if err != nil {
			continue
		}
		switch marker {
		case "revoked":
			k.revoked[string(key.Marshal())] = true
			continue
		case "", "cert-authority":
		default:
			continue
		}
		e := entry{hosts: hosts, key: key}
		switch {
		case len(hosts) == 1 && strings.HasPrefix(hosts[0], "|1|"):
			if e.salt, e.sum = parseHashed(hosts[0]); e.salt != nil {
				k.hashed = append(k.hashed, e)
			}
		case isLiteral(hosts):
			for _, h := range hosts {
				k.literal[h] = append(k.literal[h], e)
			}
		default:
			k.patterns = append(k.patterns, e)
		}
	}
}

// isLiteral reports whether every pattern is a plain name.
func isLiteral(hosts []string) bool {
	for _, h := range hosts {
		if strings.ContainsAny(h, "*?!") {
			return false
		}
	}
	return true
}

// LookupName is the name a known_hosts entry for host:port has: the host
// alone on port 22, else [host]:port.
func LookupName(host, port string) string {
	if port == "" {
		port = "22"
	}
	return knownhosts.Normalize(net.JoinHostPort(host, port))
}

// Known reports whether name (as LookupName gives it) has a key, or a
// certificate authority (@cert-authority), that is not revoked. It does
// not know the key the host will show: ssh checks that when it connects.
func (k *KnownHosts) Known(name string) bool {
	usable := func(e entry) bool { return !k.revoked[string(e.key.Marshal())] }
	for _, e := range k.literal[name] {
		if usable(e) {
			return true
		}
	}
	for _, e := range k.patterns {
		if matchHosts(name, e.hosts) && usable(e) {
			return true
		}
	}
	for _, e := range k.hashed {
		if matchHashed(name, e) && usable(e) {
			return true
		}
	}
	return false
}

// matchHosts is ssh's match_hostname: name matches the comma-separated
// patterns when one matches and no negated one does.
func matchHosts(name string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if ok, _ := path.Match(escapeBrackets(p), name); ok {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// escapeBrackets makes a known_hosts pattern ('*' and '?' only) a
// path.Match pattern, in which '[', ']' and '\' are literal.
func escapeBrackets(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`)
	return r.Replace(p)
}

// parseHashed splits a hashed name (|1|salt|hash) into its salt and
// HMAC; both are nil when it is not one.
func parseHashed(hashed string) (salt, sum []byte) {
	parts := strings.Split(hashed, "|")
	if len(parts) != 4 {
		return nil, nil
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	sum, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) == 0 {
		return nil, nil
	}
	return salt, sum
}

// matchHashed reports whether e's hashed name is name's: HMAC-SHA1 of
// name keyed with the salt.
func matchHashed(name string, e entry) bool {
	mac := hmac.New(sha1.New, e.salt)
	mac.Write([]byte(name))
	return hmac.Equal(mac.Sum(nil), e.sum)
}
