package bench

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/eva-lora/eva/train"
)

// Comparison is a set of runs that differ only in their initialisation, with the settings they
// shared.
type Comparison struct {
	// Title heads the report; Settings lists the shared settings (model, task, rank, budget, seed).
	Title    string
	Settings []string
	Runs     []*Result
	// Steps is the training budget; TargetLoss the training loss whose first (windowed) crossing
	// "steps to target" reports; Window the window of that average.
	Steps      int
	TargetLoss float64
	Window     int
}

// checkpoints are the fractions of the budget at which the table reports the training loss.
var checkpoints = []float64{0.1, 0.25, 0.5, 1}

// lossAtFraction is the windowed training loss at fraction f of the budget.
func (c *Comparison) lossAtFraction(r *Result, f float64) float64 {
	return r.MeanLoss(max(int(math.Round(f*float64(c.Steps))), 1), c.Window)
}

// header and row give the table's columns.
func (c *Comparison) header() []string {
	h := []string{"init", "init time"}
	for _, f := range checkpoints {
		h = append(h, fmt.Sprintf("loss @%d", max(int(math.Round(f*float64(c.Steps))), 1)))
	}
	return append(h, fmt.Sprintf("steps to %.2f", c.TargetLoss), "valid loss", "accuracy", "ranks")
}

func (c *Comparison) row(r *Result) []string {
	row := []string{r.Label, fmt.Sprintf("%.2f s", r.InitSeconds)}
	for _, f := range checkpoints {
		row = append(row, fmt.Sprintf("%.4f", c.lossAtFraction(r, f)))
	}
	steps := "not reached"
	if s := r.StepsTo(c.TargetLoss, c.Window); s >= 0 {
		steps = fmt.Sprint(s)
	}
	acc := "—"
	if !math.IsNaN(r.Accuracy) {
		acc = fmt.Sprintf("%.1f%%", 100*r.Accuracy)
	}
	return append(row, steps, fmt.Sprintf("%.4f", r.EvalLoss), acc, rankSummary(r.Ranks))
}

// rankSummary describes the adapters' ranks: "8 ×14" when uniform, else "2–12 (Σ 112)".
func rankSummary(ranks []int) string {
	if len(ranks) == 0 {
		return ""
	}
	lo, hi, sum := ranks[0], ranks[0], 0
	for _, r := range ranks {
		lo, hi, sum = min(lo, r), max(hi, r), sum+r
	}
	if lo == hi {
		return fmt.Sprintf("%d ×%d", lo, len(ranks))
	}
	return fmt.Sprintf("%d–%d (Σ %d)", lo, hi, sum)
}

// WriteTable prints the comparison as an aligned text table.
func (c *Comparison) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(c.header(), "\t")+"\t")
	for _, r := range c.Runs {
		fmt.Fprintln(tw, strings.Join(c.row(r), "\t")+"\t")
	}
	return tw.Flush()
}

// Markdown renders the comparison as a Markdown table.
func (c *Comparison) Markdown() string {
	var b strings.Builder
	h := c.header()
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(h, " | "), strings.Repeat(" --- |", len(h)))
	for _, r := range c.Runs {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(c.row(r), " | "))
	}
	return b.String()
}

// curves are the runs' loss curves for plotting.
func (c *Comparison) curves() []train.Curve {
	out := make([]train.Curve, len(c.Runs))
	for i, r := range c.Runs {
		out[i] = train.CurveFromEvents(r.Label, r.Events)
	}
	return out
}

// WriteReport writes loss.svg and report.html (self-contained: settings, table and the plot inline)
// into dir.
func (c *Comparison) WriteReport(dir string) error {
	if err := train.WriteLossPlot(filepath.Join(dir, "loss.svg"), c.Title, c.curves()); err != nil {
		return err
	}
	var svg bytes.Buffer
	if err := train.RenderLossPlot(&svg, c.Title, c.curves()); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(c.Title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}" +
		"td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}</style>\n")
	fmt.Fprintf(&b, "</head><body>\n<h1>%s</h1>\n<ul>\n", html.EscapeString(c.Title))
	for _, s := range c.Settings {
		fmt.Fprintf(&b, "<li>%s</li>\n", html.EscapeString(s))
	}
	b.WriteString("</ul>\n<table>\n<tr>")
	for _, h := range c.header() {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
	}
	b.WriteString("</tr>\n")
	for _, r := range c.Runs {
		b.WriteString("<tr>")
		for _, v := range c.row(r) {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(v))
		}
		b.WriteString("</tr>\n")
	}
	fmt.Fprintf(&b, "</table>\n<p>Training loss at a step is the mean over the %d steps ending there; "+
		"\"steps to\" is the first step where that mean reaches the target.</p>\n", c.Window)
	b.WriteString(svg.String())
	b.WriteString("\n</body></html>\n")
	tmp := filepath.Join(dir, ".report.html.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "report.html"))
}
