package train

import (
	"bytes"
	"fmt"
	"io"

	"github.com/eva-lora/eva/internal/svgplot"
)

// Point is one value of a curve at an optimizer step.
type Point struct {
	Step  int
	Value float64
}

// Curve is one run's losses against steps: the training loss and, when the run evaluated, the
// evaluation loss. Name labels the run in a legend (an init method, say).
type Curve struct {
	Name        string
	Train, Eval []Point
}

// CurveFromEvents collects the loss and eval_loss values of a run's metrics events, in file order.
func CurveFromEvents(name string, events []Event) Curve {
	c := Curve{Name: name}
	for _, e := range events {
		if e.Loss != nil {
			c.Train = append(c.Train, Point{e.Step, float64(*e.Loss)})
		}
		if e.EvalLoss != nil {
			c.Eval = append(c.Eval, Point{e.Step, float64(*e.EvalLoss)})
		}
	}
	return c
}

// RenderLossPlot draws the curves as one SVG line plot of loss against step: each run's training
// loss as a solid line and its evaluation loss as a dashed line with a dot per evaluation, both in
// the run's colour. Non-finite losses are left out (the line breaks there).
func RenderLossPlot(w io.Writer, title string, curves []Curve) error {
	plot := svgplot.LinePlot{Title: title, XLabel: "step", YLabel: "loss"}
	for i, c := range curves {
		color := svgplot.Palette[i%len(svgplot.Palette)]
		trainName, evalName := "train loss", "eval loss"
		if len(curves) > 1 || c.Name != "" {
			trainName, evalName = c.Name+" train", c.Name+" eval"
		}
		if len(c.Train) > 0 {
			plot.Series = append(plot.Series, svgplot.Series{Name: trainName, Points: xy(c.Train), Color: color})
		}
		if len(c.Eval) > 0 {
			plot.Series = append(plot.Series, svgplot.Series{Name: evalName, Points: xy(c.Eval), Color: color, Dashed: true, Markers: true})
		}
	}
	return plot.WriteSVG(w)
}

func xy(pts []Point) []svgplot.XY {
	out := make([]svgplot.XY, len(pts))
	for i, p := range pts {
		out[i] = svgplot.XY{X: float64(p.Step), Y: p.Value}
	}
	return out
}

// WriteLossPlot renders the plot to path atomically (temporary file, fsync, rename), so a reader
// never sees half a file and an old plot survives a failed write.
func WriteLossPlot(path, title string, curves []Curve) error {
	var buf bytes.Buffer
	if err := RenderLossPlot(&buf, title, curves); err != nil {
		return fmt.Errorf("loss plot %s: %w", path, err)
	}
	if err := replaceFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("loss plot %s: %w", path, err)
	}
	return nil
}

// ReadCurve reads a run's metrics file into a Curve named name.
func ReadCurve(name, metricsPath string) (Curve, error) {
	events, err := ReadMetrics(metricsPath)
	if err != nil {
		return Curve{}, err
	}
	return CurveFromEvents(name, events), nil
}
