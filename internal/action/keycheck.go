package action

import (
	"fmt"
	"strings"
)

// checkKnownHosts checks that each line of a known_hosts text has a host
// pattern, a key type and a key.
func checkKnownHosts(s string) error {
	for i, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want := 3
		if strings.HasPrefix(fields[0], "@") { // @cert-authority, @revoked
			want = 4
		}
		if len(fields) < want {
			return fmt.Errorf("line %d is not a known_hosts entry (HOSTS KEYTYPE KEY, as ssh-keyscan prints)", i+1)
		}
	}
	return nil
}
