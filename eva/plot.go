package eva

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// WriteSVG draws the report as a self-contained SVG chart: one row per layer, a bar for the rank EVA
// assigned (against the configured r, drawn as a tick) and the share of the input variance that rank
// captures.
func (s *State) WriteSVG(w io.Writer) error {
	rows := s.Report()
	const (
		rowH, labelW, barW, evrW, pad = 18, 330, 260, 200, 10
	)
	maxRank := 1
	for _, r := range rows {
		maxRank = max(maxRank, r.MaxRank, r.Rank, r.R)
	}
	width := labelW + barW + evrW + 4*pad
	height := (len(rows)+2)*rowH + 2*pad
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">layer</text><text x="%d" y="%d" font-weight="bold">rank (tick: r, max %d)</text><text x="%d" y="%d" font-weight="bold">variance captured</text>`+"\n",
		pad, pad+12, labelW+pad, pad+12, maxRank, labelW+barW+3*pad, pad+12)
	for i, r := range rows {
		y := pad + (i+1)*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", pad, y+12, html.EscapeString(r.Name))
		bw := barW * r.Rank / maxRank
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#4878a8"/><text x="%d" y="%d">%d</text>`+"\n",
			labelW+pad, y+3, bw, rowH-6, labelW+pad+bw+3, y+12, r.Rank)
		tick := labelW + pad + barW*r.R/maxRank
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#c03030" stroke-width="2"/>`+"\n", tick, tick, y+1, y+rowH-1)
		ew := int(float64(evrW) * min(max(r.Captured, 0), 1))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#58a058"/><text x="%d" y="%d">%.1f%%</text>`+"\n",
			labelW+barW+3*pad, y+3, ew, rowH-6, labelW+barW+3*pad+ew+3, y+12, 100*r.Captured)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%d calibration batches; rho %g, tau %g, svd %s</text>`+"\n",
		pad, height-pad, s.Batches, s.Config.Rho, s.Config.Tau, s.Config.mode())
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
