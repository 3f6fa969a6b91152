package eva

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// LayerSummary is one row of a State's report.
type LayerSummary struct {
	Name    string `json:"layer"`
	In      int    `json:"in"`
	R       int    `json:"r"`
	MaxRank int    `json:"max_rank"`
	Rank    int    `json:"rank"`
	// Captured is Σ EVR over the assigned rank: the share of the input's variance the adapter's A
	// spans.
	Captured float64 `json:"evr_captured"`
	Steps    int     `json:"steps"`
	Samples  int64   `json:"samples"`
	Alpha    float64 `json:"alpha"`
	Group    string  `json:"group,omitempty"`
}

// Report summarises every layer, in module order.
func (s *State) Report() []LayerSummary {
	rows := make([]LayerSummary, len(s.Layers))
	for i, l := range s.Layers {
		captured := 0.0
		for _, v := range l.EVR[:min(l.Rank, len(l.EVR))] {
			captured += v
		}
		rows[i] = LayerSummary{Name: l.Name, In: l.In, R: l.R, MaxRank: l.MaxRank, Rank: l.Rank, Captured: captured,
			Steps: l.Steps, Samples: l.Samples, Alpha: l.Alpha, Group: l.Group}
	}
	return rows
}

// WriteTable writes the report as an aligned text table with a totals line.
func (s *State) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tin\tr\tmax\trank\tEVR captured\tsteps\tsamples\talpha\t")
	ranks := 0
	for _, r := range s.Report() {
		name := r.Name
		if r.Group != "" && r.Group != r.Name {
			name += " (input of " + r.Group + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.4f\t%d\t%d\t%g\t\n", name, r.In, r.R, r.MaxRank, r.Rank, r.Captured, r.Steps, r.Samples, r.Alpha)
		ranks += r.Rank
	}
	fmt.Fprintf(tw, "%d layers, %d batches\t\t\t\t%d\t\t\t\t\t\n", len(s.Layers), s.Batches, ranks)
	return tw.Flush()
}

// WriteJSONL writes the report as one JSON object per layer and line.
func (s *State) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range s.Report() {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write EVA report: %w", err)
		}
	}
	return nil
}
