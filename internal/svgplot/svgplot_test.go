package svgplot

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormed fails unless doc parses as XML.
func wellFormed(t *testing.T, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0, 1, 6, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 97, 8, []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}},
		{-3.2, 7.9, 6, []float64{-2, 0, 2, 4, 6}},
		{1.82, 3.05, 6, []float64{2, 2.2, 2.4, 2.6, 2.8, 3}},
		{0, 4.5, 6, []float64{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		got := NiceTicks(c.lo, c.hi, c.n)
		if len(got) != len(c.want) {
			t.Errorf("NiceTicks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("NiceTicks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
				break
			}
		}
	}
	// Properties over many ranges: inside the range, evenly spaced by 1, 2 or 5 × 10^k, at least 2.
	for _, r := range [][2]float64{{0, 1e-3}, {1234, 1299}, {-50, -49.5}, {0, 3e7}, {0.1, 100}} {
		ticks := NiceTicks(r[0], r[1], 6)
		if len(ticks) < 2 {
			t.Fatalf("range %v: ticks %v", r, ticks)
		}
		step := ticks[1] - ticks[0]
		mant := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		if math.Abs(mant-1) > 1e-6 && math.Abs(mant-2) > 1e-6 && math.Abs(mant-5) > 1e-6 {
			t.Errorf("range %v: step %v is not 1, 2 or 5 × 10^k", r, step)
		}
		for i, v := range ticks {
			if v < r[0]-1e-9*step || v > r[1]+1e-9*step {
				t.Errorf("range %v: tick %v outside", r, v)
			}
			if i > 0 && math.Abs(v-ticks[i-1]-step) > 1e-6*step {
				t.Errorf("range %v: uneven ticks %v", r, ticks)
			}
		}
	}
	if NiceTicks(1, 1, 5) != nil || NiceTicks(2, 1, 5) != nil {
		t.Error("empty range gave ticks")
	}
}

func TestTickLabels(t *testing.T) {
	ticks := NiceTicks(0, 1, 6)
	if got := tickLabel(ticks[3], ticks); got != "0.6" { // 3·0.2 = 0.6000000000000001 in float64
		t.Errorf("label %q, want 0.6", got)
	}
	if got := tickLabel(40, []float64{0, 20, 40}); got != "40" {
		t.Errorf("label %q, want 40", got)
	}
}

func TestLinePlotEdgeCases(t *testing.T) {
	plots := map[string]LinePlot{
		"empty":         {Title: "nothing"},
		"single point":  {Series: []Series{{Name: "one", Points: []XY{{3, 2}}, Markers: true}}},
		"flat":          {Series: []Series{{Name: "flat", Points: []XY{{0, 1}, {1, 1}, {2, 1}}}}},
		"all NaN":       {Series: []Series{{Name: "bad", Points: []XY{{0, math.NaN()}, {math.Inf(1), 1}}}}},
		"escaped names": {Title: `a<b & "c"`, XLabel: "x>0", Series: []Series{{Name: "<script>", Points: []XY{{0, 0}, {1, 1}}, NoLine: true}}},
	}
	for name, p := range plots {
		var buf bytes.Buffer
		if err := p.WriteSVG(&buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wellFormed(t, buf.Bytes())
		if s := buf.String(); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
			t.Errorf("%s: non-finite coordinate in\n%s", name, s)
		}
	}
}

func TestCanvasEscapesAttributes(t *testing.T) {
	c := New(10, 10)
	c.Text(1, 2, "<&>", "data-x", `"quoted"`)
	var buf bytes.Buffer
	c.WriteTo(&buf)
	wellFormed(t, buf.Bytes())
	defer func() {
		if recover() == nil {
			t.Error("odd attribute list did not panic")
		}
	}()
	c.Line(0, 0, 1, 1, "stroke")
}
