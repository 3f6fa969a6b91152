package svgplot

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// XY is a data point (or, on a Canvas, a position).
type XY struct{ X, Y float64 }

// Series is one named set of points of a LinePlot.
type Series struct {
	Name   string
	Points []XY
	// Color is an SVG colour; empty picks Palette[i mod len(Palette)] for the i-th series.
	Color string
	// Dashed draws the line dashed; Markers adds a dot at each point; NoLine draws the dots only.
	Dashed, Markers, NoLine bool
}

// Palette holds distinguishable colours (Tableau 10) for series without a Color.
var Palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// LinePlot is a chart of series against shared linear axes.
type LinePlot struct {
	Title, XLabel, YLabel string
	// Width and Height default to 760×460.
	Width, Height int
	Series        []Series
}

// Plot-area margins in user units.
const (
	marginLeft, marginRight, marginTop, marginBottom = 70.0, 20.0, 36.0, 50.0
	legendRow                                        = 16.0
)

// WriteSVG draws the plot. Points with a NaN or infinite coordinate are left out (a line breaks
// there); the axes cover the remaining points, the y axis with 5% room above and below.
func (p *LinePlot) WriteSVG(w io.Writer) error {
	width, height := float64(p.Width), float64(p.Height)
	if p.Width <= 0 || p.Height <= 0 {
		width, height = 760, 460
	}
	x0, x1, y0, y1 := bounds(p.Series)
	pad := 0.05 * (y1 - y0)
	y0, y1 = y0-pad, y1+pad
	xt, yt := NiceTicks(x0, x1, 8), NiceTicks(y0, y1, 6)
	plotL, plotR := marginLeft, width-marginRight
	plotT, plotB := marginTop, height-marginBottom
	sx := func(x float64) float64 { return plotL + (x-x0)/(x1-x0)*(plotR-plotL) }
	sy := func(y float64) float64 { return plotB - (y-y0)/(y1-y0)*(plotB-plotT) }

	c := New(int(width), int(height))
	c.Text(width/2, 22, p.Title, "text-anchor", "middle", "font-size", "15", "font-weight", "bold")
	for _, t := range xt {
		x := sx(t)
		c.Line(x, plotT, x, plotB, "stroke", "#e4e4e4")
		c.Line(x, plotB, x, plotB+5, "stroke", "black")
		c.Text(x, plotB+18, tickLabel(t, xt), "text-anchor", "middle")
	}
	for _, t := range yt {
		y := sy(t)
		c.Line(plotL, y, plotR, y, "stroke", "#e4e4e4")
		c.Line(plotL-5, y, plotL, y, "stroke", "black")
		c.Text(plotL-8, y+4, tickLabel(t, yt), "text-anchor", "end")
	}
	c.Rect(plotL, plotT, plotR-plotL, plotB-plotT, "fill", "none", "stroke", "black")
	c.Text((plotL+plotR)/2, height-12, p.XLabel, "text-anchor", "middle")
	c.Text(16, (plotT+plotB)/2, p.YLabel, "text-anchor", "middle", "transform", fmt.Sprintf("rotate(-90 16 %s)", num((plotT+plotB)/2)))

	for i, s := range p.Series {
		color := seriesColor(s, i)
		c.Group(s.Name, "class", "series", "data-name", s.Name)
		if !s.NoLine {
			for _, seg := range segments(s.Points) {
				pts := make([]XY, len(seg))
				for j, q := range seg {
					pts[j] = XY{sx(q.X), sy(q.Y)}
				}
				c.Polyline(pts, lineStyle(color, s.Dashed)...)
			}
		}
		if s.Markers || s.NoLine {
			for _, q := range s.Points {
				if finite(q) {
					c.Circle(sx(q.X), sy(q.Y), 3, "fill", color)
				}
			}
		}
		c.EndGroup()
	}
	p.legend(c, plotR)
	_, err := c.WriteTo(w)
	return err
}

// legend draws one row per named series in the plot's top-right corner.
func (p *LinePlot) legend(c *Canvas, plotR float64) {
	var rows []int
	longest := 0
	for i, s := range p.Series {
		if s.Name != "" {
			rows = append(rows, i)
			longest = max(longest, len([]rune(s.Name)))
		}
	}
	if len(rows) == 0 {
		return
	}
	boxW := 40 + 7*float64(longest)
	boxX, boxY := plotR-boxW-8, marginTop+8
	c.Rect(boxX, boxY, boxW, legendRow*float64(len(rows))+8, "fill", "white", "fill-opacity", "0.85", "stroke", "#999999")
	for r, i := range rows {
		s := p.Series[i]
		color := seriesColor(s, i)
		y := boxY + 4 + legendRow*(float64(r)+0.5)
		if !s.NoLine {
			c.Line(boxX+6, y, boxX+28, y, lineStyle(color, s.Dashed)...)
		}
		if s.Markers || s.NoLine {
			c.Circle(boxX+17, y, 3, "fill", color)
		}
		c.Text(boxX+34, y+4, s.Name)
	}
}

func seriesColor(s Series, i int) string {
	if s.Color != "" {
		return s.Color
	}
	return Palette[i%len(Palette)]
}

func lineStyle(color string, dashed bool) []string {
	st := []string{"stroke", color, "stroke-width", "1.8"}
	if dashed {
		st = append(st, "stroke-dasharray", "6 4")
	}
	return st
}

func finite(q XY) bool {
	return !math.IsNaN(q.X) && !math.IsInf(q.X, 0) && !math.IsNaN(q.Y) && !math.IsInf(q.Y, 0)
}

// segments splits points into runs of finite points.
func segments(pts []XY) [][]XY {
	var out [][]XY
	start := -1
	for i, q := range pts {
		switch {
		case finite(q) && start < 0:
			start = i
		case !finite(q) && start >= 0:
			out = append(out, pts[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, pts[start:])
	}
	return out
}

// bounds returns the range of the finite points, widened when empty or degenerate.
func bounds(series []Series) (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for _, q := range s.Points {
			if finite(q) {
				x0, x1 = min(x0, q.X), max(x1, q.X)
				y0, y1 = min(y0, q.Y), max(y1, q.Y)
			}
		}
	}
	if x0 > x1 {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	widen := func(lo, hi float64) (float64, float64) {
		if hi > lo {
			return lo, hi
		}
		d := max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d
	}
	x0, x1 = widen(x0, x1)
	y0, y1 = widen(y0, y1)
	return x0, x1, y0, y1
}

// NiceTicks returns about n tick values inside [lo, hi], evenly spaced by 1, 2 or 5 times a power
// of ten (the classic "nice numbers" choice). It returns nil when hi ≤ lo or n < 2.
func NiceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 2 || math.IsInf(hi-lo, 0) {
		return nil
	}
	step := niceStep((hi - lo) / float64(n-1))
	first := math.Ceil(lo/step - 1e-9)
	var ticks []float64
	for k := first; k*step <= hi+1e-9*step; k++ {
		v := k * step
		if v == 0 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, v)
	}
	return ticks
}

// niceStep rounds a raw step to the nearest of 1, 2 or 5 times a power of ten (Heckbert, "Nice
// numbers for graph labels", Graphics Gems, 1990).
func niceStep(raw float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / pow; {
	case f < 1.5:
		return pow
	case f < 3:
		return 2 * pow
	case f < 7:
		return 5 * pow
	}
	return 10 * pow
}

// tickLabel formats a tick with as many decimals as the tick spacing needs.
func tickLabel(v float64, ticks []float64) string {
	if len(ticks) < 2 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	step := ticks[1] - ticks[0]
	if math.Abs(v) >= 1e6 || (v != 0 && math.Abs(v) < 1e-4) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
