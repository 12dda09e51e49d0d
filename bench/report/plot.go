package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// metric is one plotted quantity.
type metric struct {
	file, title, unit string
	value             func(result) float64
}

var metrics = []metric{
	{"push-p99", "push latency p99", "ms", pushP99},
	{"connect", "connect storm", "s", connectStorm},
	{"rss-per-client", "server RSS per client", "KB", rssPerClientKB},
}

var colors = map[string]string{"weft": "#d62728", "istiod": "#1f77b4", "gcp-linear": "#2ca02c", "gcp-snapshot": "#98df8a"}

// plot draws one line per server over the client counts, each point the median of a case's runs: a small
// self-contained SVG.
func plot(rs []caseResult, m metric, combo [2]string) string {
	const w, h, left, right, top, bottom = 520, 300, 60, 170, 34, 40
	var xs []int
	maxY := 0.0
	for _, r := range rs {
		if !r.ok() {
			continue
		}
		if !slices.Contains(xs, r.Clients) {
			xs = append(xs, r.Clients)
		}
		maxY = math.Max(maxY, r.median(m.value))
	}
	slices.Sort(xs)
	maxY = niceCeil(maxY)
	px := func(i int) float64 {
		if len(xs) == 1 {
			return left + (w-left-right)/2
		}
		return left + float64(i)*float64(w-left-right)/float64(len(xs)-1)
	}
	py := func(v float64) float64 { return top + (h-top-bottom)*(1-v/maxY) }

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, w, h)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="18" font-size="13" font-weight="bold">%s (%s), %s %s</text>`,
		left, html.EscapeString(m.title), m.unit, combo[0], combo[1])
	for i := 0; i <= 4; i++ { // horizontal grid with labels
		v := maxY * float64(i) / 4
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, py(v), py(v), left-6, py(v)+4, trim(v))
	}
	for i, x := range xs {
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`, px(i), h-bottom+16, x)
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">clients</text>`, (left+w-right)/2, h-6)
	legend := 0
	for _, peer := range peerOrder {
		var pts []string
		for i, x := range xs {
			for _, r := range rs {
				if r.Label == peer && r.Clients == x && r.ok() {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(i), py(r.median(m.value))))
				}
			}
		}
		if len(pts) == 0 {
			continue
		}
		c := colors[peer]
		fmt.Fprintf(&s, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(pts, " "))
		for _, p := range pts {
			xy := strings.Split(p, ",")
			fmt.Fprintf(&s, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, xy[0], xy[1], c)
		}
		y := top + 10 + 18*legend
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>`,
			w-right+10, w-right+28, y, y, c, w-right+32, y+4, html.EscapeString(peerName[peer]))
		legend++
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so the axis labels are round.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

func trim(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
