package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFitExponentRecoversPowerLaws(t *testing.T) {
	for _, k := range []float64{0, 0.5, 1, 2} {
		var pts []point
		for _, x := range []float64{100, 1000, 3000, 10000} {
			pts = append(pts, point{x, 7 * math.Pow(x, k)})
		}
		got, ok := fitExponent(pts)
		if !ok || math.Abs(got-k) > 1e-9 {
			t.Errorf("y = 7 x^%v: want k = %v, got %v (ok %v)", k, k, got, ok)
		}
	}
}

func TestFitExponentOfNoisyPointsIsTheLeastSquaresSlope(t *testing.T) {
	// log-log points (0, 0), (1, 1.2), (2, 1.8) in base e: slope 0.9.
	pts := []point{{1, 1}, {math.E, math.Exp(1.2)}, {math.E * math.E, math.Exp(1.8)}}
	if got, _ := fitExponent(pts); math.Abs(got-0.9) > 1e-9 {
		t.Errorf("want 0.9, got %v", got)
	}
}

func TestFitExponentNeedsTwoXAndPositiveValues(t *testing.T) {
	for name, pts := range map[string][]point{
		"one point":   {{100, 5}},
		"one x twice": {{100, 5}, {100, 6}},
		"a zero":      {{100, 0}, {1000, 5}},
	} {
		if _, ok := fitExponent(pts); ok {
			t.Errorf("%s: want no fit", name)
		}
	}
}

func scaleRun(size, clients int, p99, cpuSeconds float64, rssMB int64, err string) scaleCase {
	var c scaleCase
	c.Label, c.Protocol, c.Size, c.Clients, c.Error, c.WeftCommit = "weft", "sotw", size, clients, err, "abc1234"
	c.Push.Latency.P50, c.Push.Latency.P99, c.Push.ServerCPUSeconds = p99/2, p99, cpuSeconds
	c.Connect.Seconds, c.Ready.Seconds = 1.5, 2.25
	c.Server.RSSBaseline, c.Server.RSSConnected = rssMB<<20, (rssMB+10)<<20
	c.Load = &struct {
		Before, After, Threshold float64
		Noisy                    bool
	}{Before: 0.4, After: 1.9, Threshold: 1.5}
	return c
}

func TestScaleTableRowsAndFailures(t *testing.T) {
	table := scaleTable([]scaleCase{
		scaleRun(100, 10, 40, 0.0123, 90, ""),
		scaleRun(1000, 3000, 0, 0, 0, "connect storm: 10 of 3000 clients complete after 5m0s"),
	})
	for _, want := range []string{
		"| 100 | 10 | 2.2 | 1.50 | 20 | 40 | 12.3 | 90 | 100 | 0.4 | abc1234 |",
		"| 1000 | 3000 | failed: connect storm: 10 of 3000 clients complete after 5m0s ||||||| 0.4 | abc1234 |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestCurvesGroupGoodCasesAndMemoryTakesTheMedianPerSize(t *testing.T) {
	cases := []scaleCase{
		scaleRun(100, 10, 10, 0.01, 80, ""), scaleRun(100, 100, 20, 0.02, 90, ""),
		scaleRun(1000, 10, 30, 0.03, 200, ""), scaleRun(1000, 100, 0, 0, 0, "failed"),
		scaleRun(1000, 1000, 50, 0.05, 220, ""),
	}
	bySize := curves(cases, pushP99Metric, true)
	if len(bySize) != 3 || bySize[0].name != "10 clients" || len(bySize[0].pts) != 2 || bySize[0].pts[1] != (point{1000, 30}) {
		t.Errorf("push p99 over services: %+v", bySize)
	}
	byClients := curves(cases, cpuMetric, false)
	if len(byClients) != 2 || byClients[1].name != "1000 services" || len(byClients[1].pts) != 2 || byClients[1].pts[1] != (point{1000, 50}) {
		t.Errorf("CPU over clients (the failed case left out): %+v", byClients)
	}
	mem := memoryCurve(cases)
	if len(mem.pts) != 2 || mem.pts[0] != (point{100, 85}) || mem.pts[1] != (point{1000, 210}) {
		t.Errorf("memory: want the median per size, got %+v", mem.pts)
	}
	growth := growthTable([]growthRow{{"RSS before clients", "services", mem}, {"push p99", "services", bySize[2]}})
	if want := "| RSS before clients | services | operator | 2 | 0.39 | 0.39 |"; !strings.Contains(growth, want) {
		t.Errorf("growth lacks %q (log(210/85)/log(10) = 0.39):\n%s", want, growth)
	}
	if strings.Contains(growth, "1000 clients") {
		t.Errorf("a one-point curve has no exponent:\n%s", growth)
	}
	if got := growthTable([]growthRow{{"push p99", "services", bySize[2]}}); got != "" {
		t.Errorf("no curve with two points: want no table, got %q", got)
	}
}

func TestScaleReportAddsTheSectionWithItsHeadingOnce(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bench", "scale")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "benchmarks.md")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n\nintro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []scaleCase{scaleRun(100, 10, 10, 0.01, 80, ""), scaleRun(1000, 10, 30, 0.03, 200, "")} {
		raw, _ := json.Marshal(c)
		if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("weft_s%d_c%d.json", c.Size, c.Clients)), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := writeScaleReport(out, doc); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(doc)
	text := string(raw)
	if strings.Count(text, "## Scale curve") != 1 || strings.Count(text, "<!-- scale -->") != 1 || !strings.Contains(text, "intro") {
		t.Errorf("want one section with one heading after the intro:\n%s", text)
	}
	if !strings.Contains(text, "| 1000 | 10 | 2.2 |") || !strings.Contains(text, "| push p99 | services | 10 clients | 2 | 0.48 | 0.48 |") {
		t.Errorf("want the cases' rows and the fitted exponent (log(3)/log(10) = 0.48):\n%s", text)
	}
	if !strings.Contains(text, "](bench/scale/push-p99.svg)") {
		t.Errorf("plots linked relative to the doc:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(out, "cpu-per-push.svg")); err != nil {
		t.Error(err)
	}
}

func TestCurvesAreOrderedByTheirClientCountNotByFirstAppearance(t *testing.T) {
	cases := []scaleCase{scaleRun(100, 1000, 10, 0.01, 80, ""), scaleRun(1000, 100, 20, 0.02, 90, ""), scaleRun(1000, 1000, 30, 0.03, 90, "")}
	got := curves(cases, pushP99Metric, true)
	if len(got) != 2 || got[0].name != "100 clients" || got[1].name != "1000 clients" {
		t.Errorf("want 100 clients, then 1000 clients: %+v", got)
	}
}

func TestMemoryPerServiceIsTheSlopeOfTheLine(t *testing.T) {
	// 150 MB fixed plus 0.1 MB (102.4 KB) per service, measured at three sizes.
	mem := series{name: "operator", pts: []point{{100, 160}, {1000, 250}, {10000, 1150}}}
	if a, b, ok := fitLine(mem.pts); !ok || math.Abs(a-150) > 1e-9 || math.Abs(b-0.1) > 1e-12 {
		t.Errorf("want a = 150, b = 0.1, got %v %v %v", a, b, ok)
	}
	want := "Memory per service: 102.4 KB of RSS before clients (the least-squares line over 3 sizes, 150 MB at no service).\n"
	if got := memoryPerService(mem); got != want {
		t.Errorf("got %q", got)
	}
	if got := memoryPerService(series{pts: []point{{100, 160}}}); got != "" {
		t.Errorf("one size has no line: got %q", got)
	}
}

func TestMemoryPerProxyIsTheSlopeOfWhatClientsAddPerSize(t *testing.T) {
	at := func(size, clients int, before, with float64) scaleCase {
		c := scaleRun(size, clients, 100, 0.1, 0, "")
		c.Server.RSSBaseline, c.Server.RSSConnected = int64(before*(1<<20)), int64(with*(1<<20))
		return c
	}
	// 100 services: 64 KB per client; 1000 services: 128 KB; a failed case and a lone size are left out.
	cases := []scaleCase{
		at(100, 1000, 150, 150+62.5), at(100, 100, 150, 150+6.25), at(1000, 100, 200, 200+12.5), at(1000, 1000, 210, 210+125),
		scaleRun(1000, 3000, 0, 0, 200, "connect timeout"), at(3000, 100, 300, 310),
	}
	want := "Memory per connected proxy: 64.0 KB at 100 services (2 client counts), 128.0 KB at 1000 services (2 client counts): " +
		"the least-squares line of RSS with clients minus RSS before them, over the client count (each client watching 10 services).\n"
	if got := memoryPerProxy(cases); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := memoryPerProxy(cases[5:]); got != "" {
		t.Errorf("one client count has no line: got %q", got)
	}
}

func TestTheLastStepShowsWhereACurveWithAFixedCostIsHeading(t *testing.T) {
	// 2 s fixed plus 1 ms per service: the fit over 100..10 000 is far below 1, the last step near it.
	var pts []point
	for _, x := range []float64{100, 1000, 3000, 10000} {
		pts = append(pts, point{x, 2 + x/1000})
	}
	table := growthTable([]growthRow{{"operator ready", "services", series{name: "100 clients", pts: pts}}})
	// fit: 0.36; last step: log(12/5)/log(10/3) = 0.73.
	if want := "| operator ready | services | 100 clients | 4 | 0.36 | 0.73 |"; !strings.Contains(table, want) {
		t.Errorf("want %q in\n%s", want, table)
	}
}

func TestScaleReportOfASecondCurveHasItsOwnSection(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	for _, name := range []string{"scale", "scale-delta"} {
		out := filepath.Join(dir, "bench", name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		c := scaleRun(100, 10, 10, 0.01, 80, "")
		raw, _ := json.Marshal(c)
		if err := os.WriteFile(filepath.Join(out, "weft_s100_c10.json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ { // written again, each section is replaced, not added
			if err := writeScaleReport(out, doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw, _ := os.ReadFile(doc)
	text := string(raw)
	for _, want := range []string{"## Scale curve\n", "<!-- scale -->", "<!-- /scale -->", "## Scale curve (scale-delta)\n", "<!-- scale-delta -->", "<!-- /scale-delta -->", "](bench/scale-delta/push-p99.svg)", "raw results in docs/bench/scale-delta/"} {
		if strings.Count(text, want) != 1 {
			t.Errorf("want %q once:\n%s", want, text)
		}
	}
}
