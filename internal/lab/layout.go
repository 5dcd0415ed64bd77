package lab

import (
	"errors"
	"fmt"
	"regexp"
)

// Limits of one lab's address plan: one /30 per host in 10.231.N.0/24 and
// one /27 per site in 10.232.N.0/24.
const (
	maxHosts        = 64
	maxSites        = 8
	maxHostsPerSite = 30
	maxSlots        = 256
)

// namePattern is what a host or site name may look like: it ends up in
// namespace names, file names and known_hosts, so it stays plain.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// validate checks a spec before anything is made.
func validate(spec Spec) error {
	if len(spec.Hosts) == 0 {
		return errors.New("lab spec has no hosts")
	}
	if len(spec.Hosts) > maxHosts {
		return fmt.Errorf("lab spec has %d hosts; a lab holds at most %d", len(spec.Hosts), maxHosts)
	}
	var errs []error
	seen := map[string]bool{}
	perSite := map[string]int{}
	var sites []string
	for i, h := range spec.Hosts {
		switch {
		case !namePattern.MatchString(h.Name):
			errs = append(errs, fmt.Errorf("host %d: name %q must be 1-32 characters of a-z, 0-9 and '-', not starting with '-'", i+1, h.Name))
		case seen[h.Name]:
			errs = append(errs, fmt.Errorf("host %s: the name is used twice", h.Name))
		}
		seen[h.Name] = true
		if h.Site == "" {
			if h.Bastion {
				errs = append(errs, fmt.Errorf("host %s: a bastion needs a Site to lead into", h.Name))
			}
			continue
		}
		if !namePattern.MatchString(h.Site) {
			errs = append(errs, fmt.Errorf("host %s: site name %q must be 1-32 characters of a-z, 0-9 and '-', not starting with '-'", h.Name, h.Site))
		}
		if perSite[h.Site] == 0 {
			sites = append(sites, h.Site)
		}
		perSite[h.Site]++
	}
	if len(sites) > maxSites {
		errs = append(errs, fmt.Errorf("lab spec has %d sites; a lab holds at most %d", len(sites), maxSites))
	}
	for _, s := range sites {
		if perSite[s] > maxHostsPerSite {
			errs = append(errs, fmt.Errorf("site %s has %d hosts; a site holds at most %d", s, perSite[s], maxHostsPerSite))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid lab spec: %w", err)
	}
	return nil
}

// site is one private network: a bridge named br0 in its own namespace.
type site struct {
	name      string
	namespace string
}

// layout names and addresses every host and site of a valid spec in slot
// n. It is pure: nothing is made.
func layout(spec Spec, n int, dir string) ([]*Host, []*site) {
	var hosts []*Host
	var sites []*site
	siteIndex := map[string]int{}
	siteCount := map[string]int{}
	for i, hs := range spec.Hosts {
		h := &Host{
			Name:      hs.Name,
			Site:      hs.Site,
			Bastion:   hs.Bastion,
			Serve:     hs.Serve,
			Namespace: fmt.Sprintf("nhl-%d-%s", n, hs.Name),
			Dir:       dir + "/hosts/" + hs.Name,
		}
		if hs.Site == "" || hs.Bastion {
			h.Uplink = fmt.Sprintf("nhl%du%d", n, i)
			h.Addr = fmt.Sprintf("10.231.%d.%d", n, 4*i+2)
			h.runnerAddr = fmt.Sprintf("10.231.%d.%d", n, 4*i+1)
		}
		if hs.Site != "" {
			j, ok := siteIndex[hs.Site]
			if !ok {
				j = len(sites)
				siteIndex[hs.Site] = j
				sites = append(sites, &site{name: hs.Site, namespace: fmt.Sprintf("nhl-%d-site.%s", n, hs.Site)})
			}
			k := siteCount[hs.Site]
			siteCount[hs.Site]++
			h.SiteAddr = fmt.Sprintf("10.232.%d.%d", n, 32*j+k+1)
			h.siteNamespace = sites[j].namespace
			h.siteLink = fmt.Sprintf("nhl%ds%d", n, i)
			if !hs.Bastion {
				h.Addr = h.SiteAddr
			}
		}
		hosts = append(hosts, h)
	}
	return hosts, sites
}

// addrs lists every address a host has: its uplink address, then its site
// address.
func (h *Host) addrs() []string {
	var out []string
	if h.Uplink != "" {
		out = append(out, h.Addr)
	}
	if h.SiteAddr != "" {
		out = append(out, h.SiteAddr)
	}
	return out
}
