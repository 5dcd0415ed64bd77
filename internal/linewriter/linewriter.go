// Package linewriter prefixes every line written to it, so that the output
// of many instances deployed at once stays readable ("web-1| copying ...").
package linewriter

import (
	"bytes"
	"io"
	"sync"
)

// Shared is an io.Writer that many prefixed writers write whole lines to.
type Shared struct {
	mu  sync.Mutex
	out io.Writer
}

// NewShared wraps w.
func NewShared(w io.Writer) *Shared { return &Shared{out: w} }

// Write writes p at once, so lines of different writers never interleave.
func (s *Shared) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// Prefixed returns a writer that writes each complete line to s with
// prefix in front. Call Flush to write a final partial line.
func (s *Shared) Prefixed(prefix string) *Writer {
	return &Writer{shared: s, prefix: []byte(prefix)}
}

// Writer is a line-buffered prefixing writer.
type Writer struct {
	mu     sync.Mutex
	shared *Shared
	prefix []byte
	buf    []byte
}

// Write buffers p and writes out every complete line.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexAny(w.buf, "\n\r")
		if i < 0 {
			return len(p), nil
		}
		line := w.buf[:i]
		w.buf = w.buf[i+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := w.emit(line); err != nil {
			return len(p), err
		}
	}
}

// Flush writes a buffered partial line.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(bytes.TrimSpace(w.buf)) == 0 {
		w.buf = nil
		return nil
	}
	err := w.emit(w.buf)
	w.buf = nil
	return err
}

func (w *Writer) emit(line []byte) error {
	out := make([]byte, 0, len(w.prefix)+len(line)+1)
	out = append(append(append(out, w.prefix...), line...), '\n')
	_, err := w.shared.Write(out)
	return err
}
