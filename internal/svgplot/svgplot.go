// Package svgplot draws small self-contained SVG charts without dependencies: a Canvas of escaped
// SVG elements (text, rectangles, lines, polylines, circles) and, on top of it, a line plot with
// axes, "nice" ticks, a legend and any number of series drawn as lines and/or markers.
//
// Coordinates are SVG user units (pixels), y pointing down. Numbers are written with two decimals,
// enough for a screen and small files.
package svgplot

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// Canvas accumulates the elements of one SVG document. Make one with New; WriteTo ends the document.
type Canvas struct {
	w, h int
	b    strings.Builder
}

// New starts a w×h document with a white background; text defaults to a sans-serif 12-unit font.
func New(w, h int) *Canvas {
	c := &Canvas{w: w, h: h}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&c.b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	return c
}

// num formats a coordinate.
func num(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// attrs writes name="value" pairs, escaping the values. It panics on an odd count (a programming
// error: attributes come from code, never from input).
func (c *Canvas) attrs(kv []string) {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("svgplot: attributes %q are not name/value pairs", kv))
	}
	for i := 0; i < len(kv); i += 2 {
		fmt.Fprintf(&c.b, ` %s="%s"`, kv[i], html.EscapeString(kv[i+1]))
	}
}

// Text writes s (escaped) with its baseline at (x, y); attrs are extra name/value attribute pairs
// such as "text-anchor", "end" or "font-weight", "bold".
func (c *Canvas) Text(x, y float64, s string, attrs ...string) {
	fmt.Fprintf(&c.b, `<text x="%s" y="%s"`, num(x), num(y))
	c.attrs(attrs)
	fmt.Fprintf(&c.b, ">%s</text>\n", html.EscapeString(s))
}

// Rect draws a rectangle with its top-left corner at (x, y).
func (c *Canvas) Rect(x, y, w, h float64, attrs ...string) {
	fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s"`, num(x), num(y), num(max(w, 0)), num(max(h, 0)))
	c.attrs(attrs)
	c.b.WriteString("/>\n")
}

// Line draws a segment; give at least a "stroke" attribute.
func (c *Canvas) Line(x1, y1, x2, y2 float64, attrs ...string) {
	fmt.Fprintf(&c.b, `<line x1="%s" y1="%s" x2="%s" y2="%s"`, num(x1), num(y1), num(x2), num(y2))
	c.attrs(attrs)
	c.b.WriteString("/>\n")
}

// Polyline draws connected segments through pts (no fill).
func (c *Canvas) Polyline(pts []XY, attrs ...string) {
	c.b.WriteString(`<polyline fill="none" points="`)
	for i, p := range pts {
		if i > 0 {
			c.b.WriteByte(' ')
		}
		c.b.WriteString(num(p.X) + "," + num(p.Y))
	}
	c.b.WriteByte('"')
	c.attrs(attrs)
	c.b.WriteString("/>\n")
}

// Circle draws a circle of radius r centred at (x, y).
func (c *Canvas) Circle(x, y, r float64, attrs ...string) {
	fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="%s"`, num(x), num(y), num(r))
	c.attrs(attrs)
	c.b.WriteString("/>\n")
}

// Group opens a <g> element with the given attributes (a <title> inside names it in viewers and for
// tests); EndGroup closes it.
func (c *Canvas) Group(title string, attrs ...string) {
	c.b.WriteString("<g")
	c.attrs(attrs)
	c.b.WriteString(">")
	if title != "" {
		fmt.Fprintf(&c.b, "<title>%s</title>", html.EscapeString(title))
	}
	c.b.WriteByte('\n')
}

// EndGroup closes the innermost open Group.
func (c *Canvas) EndGroup() { c.b.WriteString("</g>\n") }

// WriteTo ends the document and writes it to w. The canvas is finished afterwards.
func (c *Canvas) WriteTo(w io.Writer) (int64, error) {
	c.b.WriteString("</svg>\n")
	n, err := io.WriteString(w, c.b.String())
	return int64(n), err
}
