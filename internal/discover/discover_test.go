package discover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// fakeReader returns machines per source name, and fails the test when
// asked for a source it was not given.
type fakeReader struct {
	t        *testing.T
	machines map[string][]Machine
	errs     map[string]error
	mu       sync.Mutex
	calls    map[string]int
}

func newFakeReader(t *testing.T, machines map[string][]Machine, errs map[string]error) *fakeReader {
	f := &fakeReader{t: t, machines: machines, errs: errs, calls: map[string]int{}}
	t.Cleanup(func() {
		for name := range machines {
			if f.calls[name] == 0 {
				t.Errorf("source %s was never read", name)
			}
		}
	})
	return f
}

func (f *fakeReader) Machines(ctx context.Context, src Source) ([]Machine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[src.Name]++
	if err, ok := f.errs[src.Name]; ok {
		return nil, err
	}
	m, ok := f.machines[src.Name]
	if !ok {
		f.t.Errorf("unexpected read of source %s", src.Name)
	}
	return m, nil
}

var _ Reader = (*fakeReader)(nil)

func tfSource(name string) Source {
	return Source{Name: name, Terraform: &Terraform{State: "/srv/" + name + ".tfstate"},
		TagPrefix: DefaultTagPrefix, Address: DefaultAddress, NameTag: DefaultNameTag}
}

func TestDiscover(t *testing.T) {
	ec2 := newFakeReader(t, map[string][]Machine{"prod": {
		machine("i-1", "Name", "web-1", "nix-hive-system", "web"),
		machine("i-2", "Name", "shared", "nix-hive-system", "web"),
		machine("i-3", "nix-hive-system", "mail"),
	}}, nil)
	tf := newFakeReader(t, map[string][]Machine{"infra": {
		{ID: "42", Name: "db-1", PrivateIP: "10.1.0.1", Tags: map[string]string{"nix-hive-system": "db"}},
		{ID: "43", Name: "shared", PrivateIP: "10.1.0.2", Tags: map[string]string{"nix-hive-system": "db"}},
	}}, nil)
	got, warnings, err := Discover(context.Background(), []Source{validEC2(), tfSource("infra")},
		Readers{EC2: ec2, Terraform: tf}, systems, stores)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range got {
		names = append(names, i.Source+"/"+i.Name)
	}
	if strings.Join(names, " ") != "infra/db-1 prod/web-1" {
		t.Errorf("instances %v, want infra/db-1 prod/web-1", names)
	}
	var lines []string
	for _, w := range warnings {
		lines = append(lines, w.String())
	}
	want := []string{
		`discover.prod: machine "i-3": tag nix-hive-system: "mail" is not a system`,
		`discover.prod: machine "i-2": name: the name "shared" is also the name of machine "43" in discover.infra`,
		`discover.infra: machine "43": name: the name "shared" is also the name of machine "i-2" in discover.prod`,
	}
	if len(lines) != len(want) {
		t.Fatalf("warnings %q, want %d", lines, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("warning %q, want %q", lines[i], want[i])
		}
	}
}

func TestDiscoverErrors(t *testing.T) {
	refused := errors.New("AWS credentials missing or refused: AuthFailure")
	tests := []struct {
		name    string
		sources []Source
		readers func(t *testing.T) Readers
		want    []string
	}{
		{
			name:    "a source that cannot be read",
			sources: []Source{validEC2(), tfSource("infra")},
			readers: func(t *testing.T) Readers {
				return Readers{EC2: newFakeReader(t, nil, map[string]error{"prod": refused}),
					Terraform: newFakeReader(t, map[string][]Machine{"infra": nil}, nil)}
			},
			want: []string{"discover.prod (ec2, eu-west-1): AWS credentials missing or refused: AuthFailure"},
		},
		{
			name:    "two sources that cannot be read",
			sources: []Source{tfSource("a"), tfSource("b")},
			readers: func(t *testing.T) Readers {
				return Readers{Terraform: newFakeReader(t, nil, map[string]error{"a": errors.New("read the state: no such file"),
					"b": errors.New("state version 3")})}
			},
			want: []string{"discover.a (terraform, /srv/a.tfstate): read the state: no such file",
				"discover.b (terraform, /srv/b.tfstate): state version 3"},
		},
		{
			name: "an invalid source is reported before anything is read",
			sources: []Source{validEC2(), func() Source {
				s := tfSource("infra")
				s.Address = "x"
				return s
			}()},
			readers: func(t *testing.T) Readers {
				return Readers{EC2: newFakeReader(t, nil, nil), Terraform: newFakeReader(t, nil, nil)}
			},
			want: []string{`discover.infra.address: "x" is not one of private, public, dns`},
		},
		{
			name:    "no reader",
			sources: []Source{validEC2()},
			readers: func(t *testing.T) Readers { return Readers{} },
			want:    []string{"discover.prod (ec2, eu-west-1): no reader for this kind of source"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := Discover(context.Background(), tt.sources, tt.readers(t), systems, stores)
			if err == nil || got != nil || warnings != nil {
				t.Fatalf("Discover = %v, %v, %v; want only an error", got, warnings, err)
			}
			if lines := strings.Split(err.Error(), "\n"); fmt.Sprint(lines) != fmt.Sprint(tt.want) {
				t.Errorf("error %q, want %q", lines, tt.want)
			}
		})
	}
	if !errors.Is(func() error {
		_, _, err := Discover(context.Background(), []Source{validEC2()}, Readers{}, systems, stores)
		return err
	}(), ErrNoReader) {
		t.Error("a source without a reader does not wrap ErrNoReader")
	}
}

func TestCachedReadsEachSourceOnce(t *testing.T) {
	ms := []Machine{machine("i-1", "Name", "web-1", "nix-hive-system", "web")}
	fake := newFakeReader(t, map[string][]Machine{"prod": ms}, map[string]error{"flaky": errors.New("timeout")})
	readers := Readers{EC2: fake}.Cached()
	for range 3 {
		if _, _, err := Discover(context.Background(), []Source{validEC2()}, readers, systems, stores); err != nil {
			t.Fatal(err)
		}
	}
	flaky := validEC2()
	flaky.Name, flaky.EC2.Region = "flaky", "us-east-1"
	for range 2 {
		if _, _, err := Discover(context.Background(), []Source{flaky}, readers, systems, stores); err == nil {
			t.Fatal("no error from a failing source")
		}
	}
	if fake.calls["prod"] != 1 || fake.calls["flaky"] != 2 {
		t.Errorf("reads %v, want prod once (cached) and flaky twice (errors are not cached)", fake.calls)
	}

	// Two entries with the same settings are one read.
	same := validEC2()
	same.Name = "prod-again"
	fake2 := newFakeReader(t, map[string][]Machine{"prod": ms}, nil)
	_, _, err := Discover(context.Background(), []Source{validEC2(), same}, Readers{EC2: fake2}.Cached(), systems, stores)
	if err != nil {
		t.Fatal(err)
	}
	if fake2.calls["prod"] != 1 || fake2.calls["prod-again"] != 0 {
		t.Errorf("reads %v, want one for both entries", fake2.calls)
	}
}
