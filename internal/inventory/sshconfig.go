package inventory

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshKeywords lists the ssh_config(5) client keywords (lower case) and the
// kind of value each takes: "yesno", "uint" or "" for anything else.
var sshKeywords = map[string]string{
	"addkeystoagent": "", "addressfamily": "", "batchmode": "yesno", "bindaddress": "",
	"bindinterface": "", "canonicaldomains": "", "canonicalizefallbacklocal": "yesno",
	"canonicalizehostname": "", "canonicalizemaxdots": "uint", "canonicalizepermittedcnames": "",
	"casignaturealgorithms": "", "certificatefile": "", "channeltimeout": "", "checkhostip": "yesno",
	"ciphers": "", "clearallforwardings": "yesno", "compression": "yesno", "connectionattempts": "uint",
	"connecttimeout": "uint", "controlmaster": "", "controlpath": "", "controlpersist": "",
	"dynamicforward": "", "enableescapecommandline": "", "enablesshkeysign": "yesno",
	"escapechar": "", "exitonforwardfailure": "yesno", "fingerprinthash": "", "forkafterauthentication": "",
	"forwardagent": "", "forwardx11": "yesno", "forwardx11timeout": "", "forwardx11trusted": "yesno",
	"gatewayports": "yesno", "globalknownhostsfile": "", "gssapiauthentication": "yesno",
	"gssapidelegatecredentials": "yesno", "hashknownhosts": "", "hostbasedacceptedalgorithms": "",
	"hostbasedauthentication": "yesno", "hostkeyalgorithms": "", "hostkeyalias": "", "hostname": "",
	"identitiesonly": "yesno", "identityagent": "", "identityfile": "", "ignoreunknown": "",
	"include": "", "ipqos": "", "kbdinteractiveauthentication": "yesno", "kbdinteractivedevices": "",
	"kexalgorithms": "", "knownhostscommand": "", "localcommand": "", "localforward": "", "loglevel": "",
	"logverbose": "", "macs": "", "nohostauthenticationforlocalhost": "yesno",
	"numberofpasswordprompts": "uint", "obscurekeystroketiming": "", "passwordauthentication": "yesno",
	"permitlocalcommand": "yesno", "permitremoteopen": "", "pkcs11provider": "", "port": "uint",
	"preferredauthentications": "", "proxycommand": "", "proxyjump": "", "proxyusefdpass": "",
	"pubkeyacceptedalgorithms": "", "pubkeyacceptedkeytypes": "", "pubkeyauthentication": "",
	"rekeylimit": "", "remotecommand": "", "remoteforward": "", "requesttty": "", "requiredrsasize": "",
	"revokedhostkeys": "", "securitykeyprovider": "", "sendenv": "", "serveralivecountmax": "uint",
	"serveraliveinterval": "uint", "sessiontype": "", "setenv": "", "stdinnull": "",
	"streamlocalbindmask": "", "streamlocalbindunlink": "yesno", "stricthostkeychecking": "",
	"syslogfacility": "", "tcpkeepalive": "yesno", "tag": "", "tunnel": "", "tunneldevice": "",
	"updatehostkeys": "", "user": "", "userknownhostsfile": "", "verifyhostkeydns": "",
	"visualhostkey": "yesno", "xauthlocation": "",
}

// CheckSSHConfig parses an ssh_config text and rejects what ssh would:
// syntax errors, unknown keywords, and values of the wrong kind.
func CheckSSHConfig(text string) error {
	cfg, err := ssh_config.DecodeBytes([]byte(text))
	if err != nil {
		return fmt.Errorf("ssh_config does not parse: %w", err)
	}
	var errs []error
	for _, h := range cfg.Hosts {
		host := hostName(h)
		for _, n := range h.Nodes {
			kv, ok := n.(*ssh_config.KV)
			if !ok {
				continue
			}
			if err := CheckSSHOption(kv.Key, kv.Value); err != nil {
				errs = append(errs, fmt.Errorf("Host %s: %w", host, err))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckSSHOption checks one ssh_config keyword and value.
func CheckSSHOption(key, value string) error {
	kind, ok := sshKeywords[strings.ToLower(key)]
	if !ok {
		return fmt.Errorf("%s: ssh knows no such option (see man ssh_config)", key)
	}
	v := strings.Trim(value, `"`)
	switch kind {
	case "yesno":
		if v != "yes" && v != "no" {
			return fmt.Errorf("%s: must be yes or no (true or false in Nix), not %q", key, value)
		}
	case "uint":
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return fmt.Errorf("%s: must be a whole number, not %q", key, value)
		}
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		return fmt.Errorf("%s: the value must be one line", key)
	}
	return nil
}

func hostName(h *ssh_config.Host) string {
	var names []string
	for _, p := range h.Patterns {
		names = append(names, p.String())
	}
	if len(names) == 0 {
		return "*"
	}
	return strings.Join(names, " ")
}
