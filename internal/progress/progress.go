// Package progress reports the progress of long work: a self-overwriting status line with rate and
// ETA on a terminal, plain log lines (at most one every few seconds) otherwise.
package progress

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Bar reports progress towards a total (0 = unknown).
type Bar struct {
	w        io.Writer
	label    string
	total    int
	from     int // units already done when the bar started (a resumed run)
	start    time.Time
	last     time.Time
	terminal bool
}

// New starts a bar that writes to w (nil = no output).
func New(w io.Writer, label string, total int) *Bar {
	b := &Bar{w: w, label: label, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.terminal = true
		}
	}
	return b
}

// From says that from units were already done when the bar started (a resumed run), so that the
// rate and ETA count only the work done since.
func (b *Bar) From(from int) *Bar {
	b.from = from
	return b
}

// Update reports that done units are finished, with a free-form status.
func (b *Bar) Update(done int, status string) {
	if b.w == nil {
		return
	}
	now := time.Now()
	if !b.terminal && now.Sub(b.last) < 5*time.Second && done != b.total {
		return
	}
	b.last = now
	elapsed := now.Sub(b.start).Seconds()
	line := fmt.Sprintf("%s %d", b.label, done)
	if b.total > 0 {
		line += fmt.Sprintf("/%d", b.total)
	}
	if elapsed > 0 && done > b.from {
		rate := float64(done-b.from) / elapsed
		line += fmt.Sprintf(" (%.2f/s", rate)
		if b.total > 0 && done < b.total {
			line += fmt.Sprintf(", ETA %s", time.Duration(float64(b.total-done)/rate*float64(time.Second)).Round(time.Second))
		}
		line += ")"
	}
	if status != "" {
		line += "  " + status
	}
	if b.terminal {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

// Done ends the bar's line on a terminal.
func (b *Bar) Done() {
	if b.w != nil && b.terminal {
		fmt.Fprintln(b.w)
	}
}
