package action

import (
	"fmt"
	"strings"
)

// checkNixConfig checks that each line of nix-config is a nix.conf line.
func checkNixConfig(s string) error {
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.Contains(line, "=") ||
			strings.HasPrefix(line, "include ") || strings.HasPrefix(line, "!include ") {
			continue
		}
		return fmt.Errorf("line %d (%q) is not a nix.conf setting such as `substituters = https://cache.example.org`", i+1, line)
	}
	return nil
}

// NixEnviron returns environ with extra nix.conf lines added to NIX_CONFIG,
// after any lines it has, so that they win.
func NixEnviron(environ []string, extra string) []string {
	if strings.TrimSpace(extra) == "" {
		return environ
	}
	out := make([]string, 0, len(environ)+1)
	conf := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "NIX_CONFIG="); ok {
			conf = v
			continue
		}
		out = append(out, kv)
	}
	if conf != "" {
		conf = strings.TrimRight(conf, "\n") + "\n"
	}
	return append(out, "NIX_CONFIG="+conf+strings.TrimRight(extra, "\n"))
}
