package process

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Dry is a Runner for --dry-run: it prints each command, shell-quoted, and
// runs nothing.
type Dry struct {
	mu  sync.Mutex
	Out io.Writer
}

var _ Runner = (*Dry)(nil)

// Run implements Runner.
func (d *Dry) Run(ctx context.Context, c Command) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := fmt.Fprintln(d.Out, c.String())
	return nil, err
}
