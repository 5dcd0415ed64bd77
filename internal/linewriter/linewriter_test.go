package linewriter

import (
	"bytes"
	"testing"
)

func TestPrefixed(t *testing.T) {
	var out bytes.Buffer
	s := NewShared(&out)
	a, b := s.Prefixed("a| "), s.Prefixed("b| ")
	a.Write([]byte("one\ntw"))
	b.Write([]byte("x\r\n\n"))
	a.Write([]byte("o\nthree"))
	a.Flush()
	b.Flush()
	want := "a| one\nb| x\na| two\na| three\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
