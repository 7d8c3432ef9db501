package wizard

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestConfirmsInARowShareTheStream: in accessible mode each Confirm reads its own line of one
// stream; the first does not swallow the second's answer (reset asks twice).
func TestConfirmsInARowShareTheStream(t *testing.T) {
	o := Options{In: strings.NewReader("y\nn\ny\n"), Out: io.Discard, Accessible: true}
	var got []bool
	for range 3 {
		ok, err := Confirm(context.Background(), "Go on?", "", o)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	if !got[0] || got[1] || !got[2] {
		t.Fatalf("answers %v, want [true false true]", got)
	}
}
