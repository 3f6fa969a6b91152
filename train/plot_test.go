package train

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgSeries parses an SVG document as XML and returns, per series group (data-name), the number
// of points across its polylines and the number of marker circles.
func svgSeries(t *testing.T, doc []byte) (points, markers map[string]int, texts []string) {
	t.Helper()
	points, markers = map[string]int{}, map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	current := ""
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch el.Name.Local {
			case "g":
				current = attr["data-name"]
			case "polyline":
				if current != "" {
					points[current] += len(strings.Fields(attr["points"]))
				}
			case "circle":
				if current != "" {
					markers[current]++
				}
			case "text":
				inText = true
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "g":
				current = ""
			case "text":
				inText = false
			}
		}
	}
	return points, markers, texts
}

func TestLossPlotSeries(t *testing.T) {
	eva := Curve{Name: "eva <r=8> & co", Train: []Point{{1, 3}, {2, 2.5}, {3, math.NaN()}, {4, 2}, {5, 1.8}}, Eval: []Point{{2, 2.7}, {4, 2.2}}}
	lora := Curve{Name: "lora", Train: []Point{{1, 3.1}, {2, 2.9}, {3, 2.8}, {4, 2.6}, {5, 2.5}}}
	var buf bytes.Buffer
	if err := RenderLossPlot(&buf, "init methods", []Curve{eva, lora}); err != nil {
		t.Fatal(err)
	}
	points, markers, texts := svgSeries(t, buf.Bytes())
	want := map[string]int{eva.Name + " train": 4, eva.Name + " eval": 2, "lora train": 5} // the NaN point is left out
	for name, n := range want {
		if points[name] != n {
			t.Errorf("series %q: %d line points, want %d (all: %v)", name, points[name], n, points)
		}
	}
	if len(points) != 3 {
		t.Errorf("series %v, want 3", points)
	}
	if markers[eva.Name+" eval"] != 2 || markers["lora train"] != 0 {
		t.Errorf("markers %v: eval points get dots, training lines none", markers)
	}
	all := strings.Join(texts, "|")
	for _, s := range []string{"init methods", "step", "loss", eva.Name + " train", "lora train"} {
		if !strings.Contains(all, s) {
			t.Errorf("text %q missing from %q", s, all)
		}
	}
	if strings.Contains(buf.String(), "NaN") {
		t.Error("SVG contains NaN coordinates")
	}
}

func TestWriteLossPlotFromMetrics(t *testing.T) {
	dir := t.TempDir()
	metrics := filepath.Join(dir, "metrics.jsonl")
	w, _ := CreateMetrics(metrics)
	writeRun(t, w, 1, 10)
	w.Close()
	c, err := ReadCurve("", metrics)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 10 || len(c.Eval) != 2 || c.Eval[1] != (Point{10, 2}) {
		t.Fatalf("curve %+v", c)
	}
	out := filepath.Join(dir, "loss.svg")
	os.WriteFile(out, []byte("old"), 0o644)
	if err := WriteLossPlot(out, "run", []Curve{c}); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(out)
	points, _, _ := svgSeries(t, doc)
	if points["train loss"] != 10 || points["eval loss"] != 2 {
		t.Errorf("series %v, want train loss 10 points and eval loss 2", points)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want metrics and plot only (no temporary file)", len(entries))
	}
	if err := WriteLossPlot(filepath.Join(dir, "missing", "loss.svg"), "run", nil); err == nil {
		t.Error("WriteLossPlot into a missing directory succeeded")
	}
}
