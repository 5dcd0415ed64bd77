package ec2

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/ec2fake"
)

const (
	keyID  = "AKIDNIXHIVETEST00001"
	secret = "nix-hive-test-secret-key"

	deniedKeyID = "AKIDNIXHIVEDENIED001"
)

// useFake points the SDK's standard configuration at the fake: the
// endpoint override and static credentials through the environment, and
// nothing that could reach the instance metadata service or a real file.
func useFake(t *testing.T, endpoint, key, secretKey string) {
	t.Setenv("AWS_ENDPOINT_URL_EC2", endpoint)
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	t.Setenv("AWS_ROLE_ARN", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
}

func source(filters map[string][]string) discover.Source {
	return discover.Source{Name: "prod", EC2: &discover.EC2{Region: "eu-west-1", Filters: filters},
		TagPrefix: "nix-hive-", Address: "private", NameTag: "Name"}
}

// fleet is five running prod instances, one staging, one stopped prod.
func fleet() []ec2fake.Instance {
	var out []ec2fake.Instance
	for i, name := range []string{"web-1", "web-2", "web-3", "db-1", "db-2"} {
		out = append(out, ec2fake.Instance{
			ID: "i-000000000000000" + string(rune('1'+i)), ReservationID: "r-" + name[:2],
			PrivateIP: "10.0.0." + string(rune('1'+i)), PublicIP: "203.0.113." + string(rune('1'+i)),
			PrivateDNS: "ip-10-0-0-" + string(rune('1'+i)) + ".eu-west-1.compute.internal",
			Tags:       map[string]string{"Name": name, "env": "prod", "nix-hive-system": name[:2]},
		})
	}
	out = append(out,
		ec2fake.Instance{ID: "i-00000000000000s1", PrivateIP: "10.0.1.1",
			Tags: map[string]string{"Name": "stage-1", "env": "staging", "nix-hive-system": "web"}},
		ec2fake.Instance{ID: "i-00000000000000x1", State: "stopped", PrivateIP: "10.0.0.99",
			Tags: map[string]string{"Name": "web-old", "env": "prod", "nix-hive-system": "web"}})
	return out
}

func ids(ms []discover.Machine) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

func TestMachinesPaginatesFiltersAndSkipsStopped(t *testing.T) {
	fake := ec2fake.New(t, fleet(), ec2fake.Options{PageSize: 2, Credentials: map[string]string{keyID: secret}})
	useFake(t, fake.URL, keyID, secret)

	machines, err := Reader{PageSize: 5}.Machines(context.Background(), source(map[string][]string{"tag:env": {"prod"}}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-0000000000000001", "i-0000000000000002", "i-0000000000000003", "i-0000000000000004", "i-0000000000000005"}
	if got := ids(machines); !slices.Equal(got, want) {
		t.Errorf("machines %v, want %v (prod and running only)", got, want)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 || fake.Paginations() != 1 {
		t.Fatalf("%d requests in %d paginations, want 3 pages of at most 2 in one pagination", len(reqs), fake.Paginations())
	}
	for _, r := range reqs {
		if r.AccessKeyID != keyID || r.Region != "eu-west-1" {
			t.Errorf("request signed for %s in %s, want %s in eu-west-1", r.AccessKeyID, r.Region, keyID)
		}
		f := r.Form
		if f.Get("Filter.1.Name") != "instance-state-name" || f.Get("Filter.1.Value.1") != "running" ||
			f.Get("Filter.2.Name") != "tag:env" || f.Get("Filter.2.Value.1") != "prod" || f.Get("MaxResults") != "5" {
			t.Errorf("request form %v: want the source's filter, instance-state-name=running and MaxResults=5", f)
		}
	}

	m := machines[slices.IndexFunc(machines, func(m discover.Machine) bool { return m.ID == "i-0000000000000001" })]
	if m.PrivateIP != "10.0.0.1" || m.PublicIP != "203.0.113.1" || m.State != "running" ||
		m.PrivateDNS != "ip-10-0-0-1.eu-west-1.compute.internal" || m.Tags["Name"] != "web-1" || m.Tags["nix-hive-system"] != "we" {
		t.Errorf("machine %+v does not carry the instance's addresses, state and tags", m)
	}
}

func TestMachinesDefaultPageSize(t *testing.T) {
	fake := ec2fake.New(t, fleet(), ec2fake.Options{})
	useFake(t, fake.URL, keyID, secret)
	machines, err := Reader{}.Machines(context.Background(), source(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(machines) != 6 {
		t.Errorf("%d machines, want the 6 running ones", len(machines))
	}
	if r := fake.Requests(); len(r) != 1 || r[0].Form.Get("MaxResults") != "1000" {
		t.Errorf("requests %+v, want one with MaxResults=1000", r)
	}
}

func TestMachinesErrors(t *testing.T) {
	closed := closedPort(t)
	tests := []struct {
		name      string
		endpoint  func(fake *ec2fake.Server) string
		key       string
		options   []func(*config.LoadOptions) error
		wantIs    error
		wantParts []string
	}{
		{
			name:      "unknown access key",
			key:       "AKIDUNKNOWN000000000",
			wantIs:    ErrCredentials,
			wantParts: []string{"AuthFailure", "check the access key id"},
		},
		{
			name:      "wrong secret",
			key:       keyID + "|wrong",
			wantIs:    ErrCredentials,
			wantParts: []string{"AuthFailure", "AWS was not able to validate the provided access credentials"},
		},
		{
			name:      "no Authorization header",
			key:       keyID,
			options:   []func(*config.LoadOptions) error{config.WithHTTPClient(&http.Client{Transport: stripAuthorization{}})},
			wantIs:    ErrCredentials,
			wantParts: []string{"AuthFailure", "Authorization header"},
		},
		{
			name:      "not allowed to describe instances",
			key:       deniedKeyID,
			wantIs:    ErrDenied,
			wantParts: []string{"UnauthorizedOperation", "allow ec2:DescribeInstances"},
		},
		{
			name:      "unreachable endpoint",
			endpoint:  func(*ec2fake.Server) string { return closed },
			key:       keyID,
			wantIs:    ErrUnreachable,
			wantParts: []string{closed, "connection refused", "AWS_ENDPOINT_URL_EC2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := ec2fake.New(t, fleet(), ec2fake.Options{Credentials: map[string]string{keyID: secret, deniedKeyID: secret},
				Denied: []string{deniedKeyID}})
			endpoint := fake.URL
			if tt.endpoint != nil {
				endpoint = tt.endpoint(fake)
			}
			key, sec, _ := strings.Cut(tt.key, "|")
			if sec == "" {
				sec = secret
			}
			useFake(t, endpoint, key, sec)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Reader{LoadOptions: tt.options}.Machines(ctx, source(nil))
			t.Log(err)
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %v, want %v", err, tt.wantIs)
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

func TestMachinesWithoutCredentials(t *testing.T) {
	fake := ec2fake.New(t, fleet(), ec2fake.Options{})
	useFake(t, fake.URL, "", "")
	_, err := Reader{}.Machines(context.Background(), source(nil))
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "aws-actions/configure-aws-credentials") {
		t.Fatalf("error %v, want ErrCredentials saying how to get credentials", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent without credentials, want none", n)
	}
}

func TestDiscoverThroughEC2ReadsEachSourceOnce(t *testing.T) {
	fake := ec2fake.New(t, fleet(), ec2fake.Options{PageSize: 2, Credentials: map[string]string{keyID: secret}})
	useFake(t, fake.URL, keyID, secret)
	readers := discover.Readers{EC2: Reader{PageSize: 5}}.Cached()
	src := source(map[string][]string{"tag:env": {"prod"}})
	systems := map[string]bool{"we": true, "db": true}
	for range 3 {
		instances, warnings, err := discover.Discover(context.Background(), []discover.Source{src}, readers, systems, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(instances) != 5 || len(warnings) != 0 {
			t.Fatalf("%d instances, warnings %v; want 5 and none", len(instances), warnings)
		}
		if i := instances[0]; i.Name != "db-1" || i.SSH["HostName"] != "10.0.0.4" || i.System != "db" {
			t.Errorf("first instance %+v, want db-1 at 10.0.0.4", i)
		}
	}
	if n := fake.Paginations(); n != 1 {
		t.Errorf("%d paginations for three discoveries of one source, want 1", n)
	}
}

func TestFilters(t *testing.T) {
	got := Filters(map[string][]string{"tag:role": {"web", "db"}, "tag-key": {"nix-hive-system"}})
	var names []string
	for _, f := range got {
		names = append(names, *f.Name)
	}
	if want := []string{"instance-state-name", "tag-key", "tag:role"}; !slices.Equal(names, want) {
		t.Errorf("filters %v, want %v", names, want)
	}
}

// closedPort returns an http URL on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// stripAuthorization sends requests without their Authorization header,
// as a client without SigV4 would.
type stripAuthorization struct{}

func (stripAuthorization) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return http.DefaultTransport.RoundTrip(r)
}
