package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A resumed bar's rate and ETA count only the units done since it started.
func TestResumedBarCountsFromItsStart(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, "train", 1000).From(900)
	b.start = time.Now().Add(-10 * time.Second)
	b.Update(910, "")
	line := out.String()
	if !strings.Contains(line, "(1.00/s, ETA 1m30s)") {
		t.Fatalf("resumed bar at 910/1000 after 10 s: %q, want a rate of 1.00/s and 90 s left", line)
	}
}
