package deploy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/lab"
)

// cacheSpec is a site whose store is a binary cache host: a bastion, the
// cache and three instances.
var cacheSpec = lab.Spec{Hosts: []lab.HostSpec{
	{Name: "bastion-us", Site: "us", Bastion: true}, {Name: "cache-us", Site: "us"},
	{Name: "us-1", Site: "us"}, {Name: "us-2", Site: "us"}, {Name: "us-3", Site: "us"},
}}

// cacheHive is the hive.nix of cacheSpec's site, its store's push URL
// left to fill in. The instances substitute over HTTP from cache-us.
const cacheHive = `# Written by the test: a site whose store is a binary cache served over HTTP.
let
  hosts = import ./hosts.nix;
  onSite = address: { HostName = address; User = "root"; ProxyJump = "bastion-us"; };
in
{
  paths = [ "nixpkgs=${toString ./nixpkgs}" ];
  systems.edge = {
    configuration = ./systems/edge.nix;
    path = [ "nixpkgs=${toString ./nixpkgs}" "site=${toString ./site}" ];
  };
  stores.us = {
    url = %q;
    substituter = "http://${hosts.cache-us}:8080";
    publicKey = hosts.storePublicKey;
  };
  sshHosts.bastion-us = { HostName = hosts.bastion-us; User = "root"; };
  instances = {
    us-1 = { system = "edge"; store = "us"; ssh = onSite hosts.us-1; };
    us-2 = { system = "edge"; store = "us"; ssh = onSite hosts.us-2; };
    us-3 = { system = "edge"; store = "us"; ssh = onSite hosts.us-3; };
  };
}
`

var usInstances = []string{"us-1", "us-2", "us-3"}

// TestBinaryCacheOnLab deploys a site whose store is a binary cache that
// busybox httpd serves from the cache host: pushed once as file:// (shared
// storage) and once over HTTP PUT, signed at upload; the three instances
// substitute the closure over HTTP from the cache, and the runner's uplink
// into the site never carries it.
func TestBinaryCacheOnLab(t *testing.T) {
	f := newFleetOn(t, cacheSpec)
	cache := f.lab.Hosts["cache-us"]
	dir := filepath.Join(cache.Dir, "cache")
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox (busybox-static) serves the cache: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.lab.Start(t.Context(), "cache-us", "httpd", busybox, "httpd", "-f", "-p", "8080", "-h", dir); err != nil {
		t.Fatal(err)
	}
	const closure = 1 << 20

	t.Run("file:// served over HTTP, with a negative lookup cached before the push", func(t *testing.T) {
		f.write("hive.nix", fmt.Sprintf(cacheHive, "file://"+dir))
		f.setVersion(int(time.Now().UnixNano() % 1e9))
		r, err := f.deploy("--on", "us-1", "--goal", "build")
		want := r.Instances["us-1"].Path
		if err != nil || want == "" {
			t.Fatalf("build: %v %+v", err, r)
		}
		// us-1 asks the cache for the path before it is there: nix
		// remembers the miss (narinfo-cache-negative-ttl, an hour).
		if err := os.WriteFile(filepath.Join(dir, "nix-cache-info"), []byte("StoreDir: /nix/store\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := f.lab.Exec(t.Context(), "us-1", "nix-store", "--realise", want, "--option", "substituters", "http://"+cache.SiteAddr+":8080"); err == nil {
			t.Fatalf("us-1 found %s before the push: %s", want, out)
		}
		f.deployThrough(t, want, closure)
		if narinfo := f.readNarinfo(dir, want); !strings.Contains(narinfo, "Sig: store-eu:") {
			t.Errorf("the cache's narinfo of %s is not signed:\n%s", want, narinfo)
		}
	})

	t.Run("HTTP PUT uploads each path once, signed", func(t *testing.T) {
		up := &uploads{dir: dir, puts: map[string]int{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: up}
		go srv.Serve(ln)
		defer srv.Close()
		f.write("hive.nix", fmt.Sprintf(cacheHive, "http://"+ln.Addr().String()))
		f.setVersion(int(time.Now().UnixNano() % 1e9))
		r, err := f.deploy("--on", "us-1", "--goal", "build")
		want := r.Instances["us-1"].Path
		if err != nil || want == "" {
			t.Fatalf("build: %v %+v", err, r)
		}
		f.deployThrough(t, want, closure)
		nars, bytes := up.nars()
		t.Logf("uploads: %d nar files, %d bytes of nar, for three instances; every upload: %v", len(nars), bytes, up.all())
		for name, n := range nars {
			if n != 1 {
				t.Errorf("%s was uploaded %d times", name, n)
			}
		}
		if len(nars) == 0 || bytes < closure || bytes > 2*closure {
			t.Errorf("uploaded %d nar files of %d bytes; want the closure (%d bytes) once", len(nars), bytes, closure)
		}
		if narinfo := f.readNarinfo(dir, want); !strings.Contains(narinfo, "Sig: store-eu:") {
			t.Errorf("the uploaded narinfo of %s is not signed:\n%s", want, narinfo)
		}
	})
}

// deployThrough deploys the three instances of the site, which must all
// activate want, and checks that the closure reached each from the cache
// host, not across the runner's uplink into the site.
func (f *fleet) deployThrough(t *testing.T, want string, closure uint64) {
	t.Helper()
	site := f.txBytes("bastion-us")
	into := map[string]uint64{}
	for _, n := range usInstances {
		into[n] = f.txBytes(n)
	}
	r, err := f.deploy()
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	siteSent := f.txBytes("bastion-us") - site
	for _, n := range usInstances {
		o := r.Instances[n]
		if o.Result != "activated" || o.Path != want {
			t.Errorf("%s: %+v, want activated on %s", n, o, want)
		}
		if got := f.txBytes(n) - into[n]; got < closure {
			t.Errorf("%s received %d bytes, less than the closure (%d)", n, got, closure)
		}
	}
	t.Logf("bytes sent into the site for three instances: %d (closure payload %d)", siteSent, closure)
	if siteSent >= closure {
		t.Errorf("the runner sent %d bytes into the site; the closure (%d) should come from the cache only", siteSent, closure)
	}
}

// readNarinfo returns the cache's .narinfo of a store path.
func (f *fleet) readNarinfo(dir, storePath string) string {
	f.t.Helper()
	hash, _, _ := strings.Cut(strings.TrimPrefix(storePath, "/nix/store/"), "-")
	data, err := os.ReadFile(filepath.Join(dir, hash+".narinfo"))
	if err != nil {
		f.t.Fatalf("the cache has no narinfo of %s: %v", storePath, err)
	}
	return string(data)
}

// uploads is a binary cache over HTTP that takes uploads as nix makes
// them (PUT; GET and HEAD read) into dir and counts them.
type uploads struct {
	dir      string
	mu       sync.Mutex
	puts     map[string]int
	narBytes uint64
}

func (u *uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("/" + r.URL.Path)
	file := filepath.Join(u.dir, filepath.FromSlash(name))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if _, err := os.Stat(file); err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, file)
	case http.MethodPut:
		data, err := io.ReadAll(r.Body)
		if err == nil {
			err = writeFile(file, data)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		u.mu.Lock()
		u.puts[name]++
		if strings.HasPrefix(name, "/nar/") {
			u.narBytes += uint64(len(data))
		}
		u.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// nars returns how often each nar file was uploaded, and their bytes.
func (u *uploads) nars() (map[string]int, uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]int{}
	for name, n := range u.puts {
		if strings.HasPrefix(name, "/nar/") {
			out[name] = n
		}
	}
	return out, u.narBytes
}

// all returns how often each file was uploaded.
func (u *uploads) all() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]int{}
	for name, n := range u.puts {
		out[name] = n
	}
	return out
}

// writeFile writes data to file through a temporary file and a rename.
func writeFile(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
