package main

// The scale curve (report --scale, from bench/scale.sh): one loadgen JSON per mesh size and client count
// (weft_s<size>_c<clients>.json, one run each), written as a table, a table of fitted growth exponents and four
// SVG plots over log-scaled axes, between <!-- scale --> and <!-- /scale --> of docs/benchmarks.md.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// scaleCase is one case of the curve: loadgen's result plus the time the operator took to serve the whole mesh.
type scaleCase struct {
	result
	Ready struct{ Seconds float64 }
}

func (c scaleCase) ok() bool { return c.Error == "" }

func readScaleCases(dir string) ([]scaleCase, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "weft_s*_c*.json"))
	var cases []scaleCase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var c scaleCase
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		cases = append(cases, c)
	}
	slices.SortFunc(cases, func(a, b scaleCase) int {
		if a.Size != b.Size {
			return a.Size - b.Size
		}
		return a.Clients - b.Clients
	})
	return cases, nil
}

// point is one measurement of a curve; series is one line of a plot (or one fitted curve).
type point struct{ x, y float64 }

type series struct {
	name  string
	group int // the client count or size the line is drawn for (the order of lines)
	pts   []point
}

// fitExponent is the least-squares slope of log(y) over log(x): cost grows as x^k (1 linear, 2 quadratic, near 0
// flat). It needs two distinct x and positive values (a zero cannot be put on a log scale).
func fitExponent(pts []point) (float64, bool) {
	var n, sx, sy, sxx, sxy float64
	for _, p := range pts {
		if p.x <= 0 || p.y <= 0 {
			return 0, false
		}
		lx, ly := math.Log(p.x), math.Log(p.y)
		n, sx, sy, sxx, sxy = n+1, sx+lx, sy+ly, sxx+lx*lx, sxy+lx*ly
	}
	den := n*sxx - sx*sx
	if n < 2 || den < 1e-12 {
		return 0, false
	}
	return (n*sxy - sx*sy) / den, true
}

// fitLine is the least-squares line y = a + b·x: for memory, whose fixed part (code, libraries) hides what each
// service adds from a power-law exponent. It needs two distinct x.
func fitLine(pts []point) (a, b float64, ok bool) {
	var n, sx, sy, sxx, sxy float64
	for _, p := range pts {
		n, sx, sy, sxx, sxy = n+1, sx+p.x, sy+p.y, sxx+p.x*p.x, sxy+p.x*p.y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0, 0, false
	}
	b = (n*sxy - sx*sy) / den
	return (sy - b*sx) / n, b, true
}

// memoryPerService states the fitted line of RSS before clients over services ("" with fewer than two sizes).
func memoryPerService(mem series) string {
	a, b, ok := fitLine(mem.pts)
	if !ok {
		return ""
	}
	return fmt.Sprintf("Memory per service: %.1f KB of RSS before clients (the least-squares line over %d sizes, %.0f MB at "+
		"no service).\n", b*1024, len(mem.pts), a)
}

// memoryPerProxy states, per mesh size, the fitted line of what clients added to RSS (with clients minus before
// them) over the client count: the cost of one connected proxy ("" where no size has two client counts).
func memoryPerProxy(cases []scaleCase) string {
	bySize := map[int][]point{}
	var sizes []int
	for _, c := range cases {
		if !c.ok() || c.Server.RSSBaseline == 0 || c.Server.RSSConnected == 0 {
			continue
		}
		if _, seen := bySize[c.Size]; !seen {
			sizes = append(sizes, c.Size)
		}
		bySize[c.Size] = append(bySize[c.Size], point{float64(c.Clients), float64(c.Server.RSSConnected-c.Server.RSSBaseline) / (1 << 20)})
	}
	slices.Sort(sizes)
	var parts []string
	for _, size := range sizes {
		if _, b, ok := fitLine(bySize[size]); ok {
			parts = append(parts, fmt.Sprintf("%.1f KB at %d services (%d client counts)", b*1024, size, len(bySize[size])))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Memory per connected proxy: " + strings.Join(parts, ", ") + ": the least-squares line of RSS with clients " +
		"minus RSS before them, over the client count (each client watching 10 services).\n"
}

// scaleMetric is one quantity of the curve.
type scaleMetric struct {
	title, unit string
	value       func(scaleCase) float64
}

var (
	pushP99Metric = scaleMetric{"push p99", "ms", func(c scaleCase) float64 { return c.Push.Latency.P99 }}
	stormMetric   = scaleMetric{"connect storm", "s", func(c scaleCase) float64 { return c.Connect.Seconds }}
	readyMetric   = scaleMetric{"operator ready", "s", func(c scaleCase) float64 { return c.Ready.Seconds }}
	rssMetric     = scaleMetric{"RSS before clients", "MB", func(c scaleCase) float64 { return float64(c.Server.RSSBaseline) / (1 << 20) }}
	cpuMetric     = scaleMetric{"operator CPU per push", "ms", func(c scaleCase) float64 { return c.Push.ServerCPUSeconds * 1000 }}
)

// curves splits the good cases into one series per value of group (clients or size), x being the other one.
func curves(cases []scaleCase, m scaleMetric, overSize bool) []series {
	var out []series
	for _, c := range cases {
		if !c.ok() {
			continue
		}
		group, x := c.Clients, c.Size
		name := fmt.Sprintf("%d clients", group)
		if !overSize {
			group, x = c.Size, c.Clients
			name = fmt.Sprintf("%d services", group)
		}
		i := slices.IndexFunc(out, func(s series) bool { return s.name == name })
		if i < 0 {
			out = append(out, series{name: name, group: group})
			i = len(out) - 1
		}
		out[i].pts = append(out[i].pts, point{float64(x), m.value(c)})
	}
	for i := range out {
		slices.SortFunc(out[i].pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
	}
	slices.SortFunc(out, func(a, b series) int { return a.group - b.group })
	return out
}

// memoryCurve is RSS before clients over services: one point per size (the median over that size's cases, each a
// fresh operator that had read the same mesh).
func memoryCurve(cases []scaleCase) series {
	bySize := map[int][]float64{}
	var sizes []int
	for _, c := range cases {
		if c.Server.RSSBaseline == 0 {
			continue // failed before the probe was served
		}
		if _, seen := bySize[c.Size]; !seen {
			sizes = append(sizes, c.Size)
		}
		bySize[c.Size] = append(bySize[c.Size], rssMetric.value(c))
	}
	slices.Sort(sizes)
	s := series{name: "operator"}
	for _, size := range sizes {
		s.pts = append(s.pts, point{float64(size), median(bySize[size])})
	}
	return s
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// scaleTable: one row per case; a failed case shows its error.
func scaleTable(cases []scaleCase) string {
	var b strings.Builder
	b.WriteString("| services | clients | operator ready (s) | connect storm (s) | push p50 (ms) | push p99 (ms) | operator CPU / push (ms) | RSS before clients (MB) | RSS with clients (MB) | load before | Weft commit |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, c := range cases {
		load := "–"
		if c.Load != nil {
			load = fmt.Sprintf("%.1f", c.Load.Before)
			if c.Load.Noisy {
				load += " (noisy)"
			}
		}
		commit := c.WeftCommit
		if commit == "" {
			commit = "not recorded"
		}
		if !c.ok() {
			fmt.Fprintf(&b, "| %d | %d | failed: %s ||||||| %s | %s |\n", c.Size, c.Clients, oneLine(c.Error), load, commit)
			continue
		}
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.2f | %.0f | %.0f | %.1f | %.0f | %.0f | %s | %s |\n", c.Size, c.Clients,
			c.Ready.Seconds, c.Connect.Seconds, c.Push.Latency.P50, c.Push.Latency.P99, cpuMetric.value(c),
			rssMetric.value(c), float64(c.Server.RSSConnected)/(1<<20), load, commit)
	}
	return b.String()
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "|", "/").Replace(s) }

// growthRow names one fitted curve: what grows over what, for which series.
type growthRow struct {
	what, over string
	s          series
}

// growthTable: the fitted exponent of every curve with at least two points ("" when none has), and the exponent
// of its last step (between its two biggest x), where fixed costs weigh least: where the curve is heading.
func growthTable(rows []growthRow) string {
	var lines []string
	for _, r := range rows {
		k, ok := fitExponent(r.s.pts)
		if !ok {
			continue
		}
		last, _ := fitExponent(r.s.pts[len(r.s.pts)-2:]) // points are sorted by x
		lines = append(lines, fmt.Sprintf("| %s | %s | %s | %d | %.2f | %.2f |\n", r.what, r.over, r.s.name, len(r.s.pts), k, last))
	}
	if len(lines) == 0 {
		return ""
	}
	return "| cost | over | curve | points | grows as x^k, k = | k of the last step |\n|---|---|---|--:|--:|--:|\n" + strings.Join(lines, "")
}

// scalePlot draws series over a log-scaled x axis (labelled at the measured x) and a linear y axis from 0.
func scalePlot(title, xLabel, unit string, ss []series) string {
	const w, h, left, right, top, bottom = 560, 300, 60, 150, 34, 40
	var xs []float64
	maxY := 0.0
	for _, s := range ss {
		for _, p := range s.pts {
			if !slices.Contains(xs, p.x) {
				xs = append(xs, p.x)
			}
			maxY = math.Max(maxY, p.y)
		}
	}
	slices.Sort(xs)
	maxY = niceCeil(maxY)
	px := func(x float64) float64 {
		if len(xs) < 2 {
			return left + (w-left-right)/2
		}
		lo, hi := math.Log(xs[0]), math.Log(xs[len(xs)-1])
		return left + (math.Log(x)-lo)/(hi-lo)*float64(w-left-right)
	}
	py := func(v float64) float64 { return top + (h-top-bottom)*(1-v/maxY) }

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, w, h)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="18" font-size="13" font-weight="bold">%s (%s)</text>`,
		left, html.EscapeString(title), unit)
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, py(v), py(v), left-6, py(v)+4, trim(v))
	}
	for _, x := range xs {
		fmt.Fprintf(&s, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			px(x), px(x), top, h-bottom, px(x), h-bottom+16, trim(x))
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">%s (log scale)</text>`, (left+w-right)/2, h-6, html.EscapeString(xLabel))
	for i, line := range ss {
		c := palette[i%len(palette)]
		var pts []string
		for _, p := range line.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.x), py(p.y)))
		}
		fmt.Fprintf(&s, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(pts, " "))
		for _, p := range line.pts {
			fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, px(p.x), py(p.y), c)
		}
		y := top + 10 + 18*i
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>`,
			w-right+10, w-right+28, y, y, c, w-right+32, y+4, html.EscapeString(line.name))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// writeScaleReport writes the plots into dir and the section into doc (with its heading when the doc has none). The
// section is named after dir (docs/bench/scale: <!-- scale -->; a second curve, e.g. on delta xDS, in
// docs/bench/scale-delta: <!-- scale-delta --> under its own heading).
func writeScaleReport(dir, doc string) error {
	marker := filepath.Base(dir)
	cases, err := readScaleCases(dir)
	if err != nil {
		return err
	}
	plots := []struct {
		file, title, xLabel, unit string
		ss                        []series
	}{
		{"push-p99.svg", "push p99 over services", "services", "ms", curves(cases, pushP99Metric, true)},
		{"connect-storm.svg", "connect storm over services", "services", "s", curves(cases, stormMetric, true)},
		{"rss-before-clients.svg", "operator RSS before clients over services", "services", "MB", []series{memoryCurve(cases)}},
		{"cpu-per-push.svg", "operator CPU per push over clients", "clients", "ms", curves(cases, cpuMetric, false)},
	}
	rel, err := filepath.Rel(filepath.Dir(doc), dir)
	if err != nil {
		rel = dir
	}
	var images []string
	for _, p := range plots {
		if len(cases) == 0 {
			break // no empty plots beside a section that says there are no results
		}
		if err := os.WriteFile(filepath.Join(dir, p.file), []byte(scalePlot(p.title, p.xLabel, p.unit, p.ss)), 0o644); err != nil {
			return err
		}
		images = append(images, fmt.Sprintf("![%s](%s)", p.title, filepath.ToSlash(filepath.Join(rel, p.file))))
	}
	var growth []growthRow
	for _, s := range curves(cases, readyMetric, true) {
		growth = append(growth, growthRow{"operator ready", "services", s})
	}
	growth = append(growth, growthRow{"RSS before clients", "services", memoryCurve(cases)})
	for _, s := range curves(cases, stormMetric, true) {
		growth = append(growth, growthRow{"connect storm", "services", s})
	}
	for _, s := range curves(cases, pushP99Metric, true) {
		growth = append(growth, growthRow{"push p99", "services", s})
	}
	for _, s := range curves(cases, cpuMetric, true) {
		growth = append(growth, growthRow{"operator CPU / push", "services", s})
	}
	for _, s := range curves(cases, stormMetric, false) {
		growth = append(growth, growthRow{"connect storm", "clients", s})
	}
	for _, s := range curves(cases, cpuMetric, false) {
		growth = append(growth, growthRow{"operator CPU / push", "clients", s})
	}

	section := scaleSection(marker, cases, scaleTable(cases), growthTable(growth), strings.Join(images, " "))
	raw, _ := os.ReadFile(doc)
	if !strings.Contains(string(raw), "<!-- "+marker+" -->") {
		heading := "## Scale curve"
		if marker != "scale" {
			heading += " (" + marker + ")"
		}
		section = heading + "\n\n" + section
	}
	return updateDoc(doc, marker, section)
}

func scaleSection(marker string, cases []scaleCase, table, growth, images string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- %s -->\n<!-- generated by bench/report --scale from docs/bench/%s/*.json; `make bench-scale` rewrites this section -->\n", marker, marker)
	b.WriteString("Weft alone as the mesh grows, `make bench-scale` (bench/scale.sh): meshgen's mesh (a ServiceEntry, " +
		"DestinationRule and VirtualService per service) grows through the sizes; at each size, for each client count, " +
		"a fresh operator reads it from the API server and serves simulated proxyless clients (bench/loadgen, each " +
		"watching 10 services). Each grown mesh is first settled by one operator that writes the new services' " +
		"status, so every case starts over the same state, as a restarted or second replica does. *Operator ready* is from the operator's start until a probe client holds complete " +
		"config (the trigger service and the last one); *RSS before clients* is taken then; the *connect storm* is " +
		"until every client holds complete config; a push is a VirtualService weight PATCH through the API server " +
		"until every client holds the new route, and *operator CPU / push* is the operator's CPU from just before " +
		"that PATCH until every client held it and a second more. One run per case, each after the quiet-machine gate of bench/lib.sh (the load " +
		"before it and the Weft commit are in its row); every figure, and every exponent below, is computed from " +
		"the JSON. Reproduce: `make bench-scale` (SCALE_SIZES, SCALE_CLIENTS, SCALE_PROTOCOL, SCALE_TRIGGERS, SCALE_OUT; raw " +
		"results in docs/bench/" + marker + "/).\n\n")
	if len(cases) == 0 {
		b.WriteString("No results yet: run `make bench-scale` on a quiet machine.\n")
	} else {
		var started []string
		for _, c := range cases {
			if len(c.Started) >= 16 {
				started = append(started, strings.Replace(c.Started[:16], "T", " ", 1))
			}
		}
		slices.Sort(started)
		if len(started) > 0 {
			triggers := 0
			for _, c := range cases {
				triggers = max(triggers, len(c.Pushes))
			}
			fmt.Fprintf(&b, "Run from %s to %s UTC, %s, triggers per case: %d.\n\n", started[0], started[len(started)-1],
				protocolName[cases[0].Protocol], triggers)
		}
		b.WriteString(table)
		if growth != "" {
			b.WriteString("\nHow cost grows: the least-squares slope of log(cost) over log(services or clients) per curve, " +
				"so cost ∝ x^k (k = 1 linear, 0 flat, 2 quadratic). Fixed costs (process start, the API server's " +
				"round trip) flatten k at small x: the last step (between the two biggest x) shows where the curve " +
				"is heading.\n\n")
			b.WriteString(growth)
		}
		if m := memoryPerService(memoryCurve(cases)); m != "" {
			b.WriteString("\n" + m)
		}
		if m := memoryPerProxy(cases); m != "" {
			b.WriteString("\n" + m)
		}
		b.WriteString("\n" + images + "\n")
	}
	fmt.Fprintf(&b, "<!-- /%s -->", marker)
	return b.String()
}
