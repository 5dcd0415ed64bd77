package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Reader lists the machines of a source. Its errors need not name the
// source: [Discover] adds that.
type Reader interface {
	Machines(ctx context.Context, src Source) ([]Machine, error)
}

// Readers holds one [Reader] per kind of source.
type Readers struct {
	// EC2 reads sources with ec2 set (ec2.Reader).
	EC2 Reader
	// Terraform reads sources with terraform set (terraform.Reader).
	Terraform Reader
}

// ErrNoReader is returned for a source whose kind has no [Reader].
var ErrNoReader = errors.New("no reader for this kind of source")

func (r Readers) reader(src Source) (Reader, error) {
	var reader Reader
	switch src.Kind() {
	case "ec2":
		reader = r.EC2
	case "terraform":
		reader = r.Terraform
	}
	if reader == nil {
		return nil, ErrNoReader
	}
	return reader, nil
}

// Discover validates every source, reads each one's machines once and maps
// them to instances (see [Map]). Instances whose names clash across
// sources are left out with a warning each. Any invalid source or failed
// read is an error naming the source ("discover.prod (ec2, eu-west-1):
// ..."), and then no instances are returned: a run must not deploy part of
// a fleet because a source could not be read.
//
// Give it readers wrapped with [Readers.Cached] to read each source once
// per run however often Discover is called.
func Discover(ctx context.Context, sources []Source, readers Readers, systems, stores map[string]bool) ([]Instance, []Warning, error) {
	var errs []error
	for _, src := range sources {
		if err := src.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}

	var all []Instance
	var warnings []Warning
	for _, src := range sources {
		reader, err := readers.reader(src)
		if err == nil {
			var machines []Machine
			machines, err = reader.Machines(ctx, src)
			if err == nil {
				found, w := Map(src, machines, systems, stores)
				all = append(all, found...)
				warnings = append(warnings, w...)
				continue
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", src, err))
		if ctx.Err() != nil {
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	instances, dups := dropDuplicates(all)
	return instances, append(warnings, dups...), nil
}

// Cached returns readers that read each distinct source once and then
// return the same machines: one DescribeInstances pagination per source
// per run, not per command. Two sources with the same ec2 (or terraform)
// settings are read once. A failed read is not cached.
func (r Readers) Cached() Readers {
	c := Readers{}
	if r.EC2 != nil {
		c.EC2 = &cached{reader: r.EC2, done: map[string][]Machine{}}
	}
	if r.Terraform != nil {
		c.Terraform = &cached{reader: r.Terraform, done: map[string][]Machine{}}
	}
	return c
}

type cached struct {
	reader Reader
	mu     sync.Mutex // held during a read, so that concurrent callers wait for it
	done   map[string][]Machine
}

// Machines returns the machines of the first successful read of src's
// settings.
func (c *cached) Machines(ctx context.Context, src Source) ([]Machine, error) {
	key := cacheKey(src)
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.done[key]; ok {
		return slices.Clone(m), nil
	}
	m, err := c.reader.Machines(ctx, src)
	if err != nil {
		return nil, err
	}
	c.done[key] = m
	return slices.Clone(m), nil
}

// cacheKey identifies what a reader reads: the source's ec2 or terraform
// settings (encoding/json sorts map keys, so equal settings give equal
// keys).
func cacheKey(src Source) string {
	b, _ := json.Marshal(struct {
		EC2       *EC2
		Terraform *Terraform
	}{src.EC2, src.Terraform})
	return string(b)
}
