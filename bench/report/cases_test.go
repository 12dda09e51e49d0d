package main

import (
	"strings"
	"testing"
)

func run(label string, clients int, p99 float64, noisyRun bool, err string) result {
	r := result{Label: label, Mode: "proxyless", Protocol: "sotw", Clients: clients, Error: err, WeftCommit: "abc1234"}
	r.Push.Latency.P99 = p99
	r.Load = &struct {
		Before, After, Threshold float64
		Noisy                    bool
	}{Before: 0.5, After: 1.8, Threshold: 1.5, Noisy: noisyRun}
	return r
}

func p99(r result) float64 { return r.Push.Latency.P99 }

func TestNoisyRunsAreLeftOutWhenQuietOnesExist(t *testing.T) {
	cs := groupCases([]result{run("weft", 100, 900, true, ""), run("weft", 100, 100, false, ""), run("weft", 100, 300, false, "")})
	if len(cs) != 1 {
		t.Fatalf("want one case, got %d", len(cs))
	}
	c := cs[0]
	if got := c.median(p99); got != 200 {
		t.Errorf("median of the quiet runs 100 and 300: want 200, got %v", got)
	}
	if got := c.cell(p99, "%.0f"); got != "200 (100–300)" {
		t.Errorf("cell: got %q", got)
	}
	if got := c.runs(); got != "2 (1 noisy left out)" {
		t.Errorf("runs: got %q", got)
	}
}

func TestAllNoisyRunsStillGiveFiguresMarkedNoisy(t *testing.T) {
	c := groupCases([]result{run("weft", 100, 400, true, ""), run("weft", 100, 100, true, ""), run("weft", 100, 200, true, "")})[0]
	if got := c.median(p99); got != 200 {
		t.Errorf("median: want 200, got %v", got)
	}
	if got := c.runs(); got != "3 (all noisy)" {
		t.Errorf("runs: got %q", got)
	}
}

func TestFailedRunsAreCountedNotAveraged(t *testing.T) {
	cs := groupCases([]result{run("istiod", 100, 0, false, "EOF"), run("weft", 100, 100, false, ""), run("weft", 100, 0, false, "timeout")})
	w, _ := findCase(cs, "weft", 100, "proxyless", "sotw")
	if w.median(p99) != 100 || w.runs() != "1 (1 failed)" {
		t.Errorf("weft: median %v, runs %q", w.median(p99), w.runs())
	}
	i, _ := findCase(cs, "istiod", 100, "proxyless", "sotw")
	if i.ok() || i.failure() != "EOF" || i.runs() != "1 failed" {
		t.Errorf("istiod: ok %v, failure %q, runs %q", i.ok(), i.failure(), i.runs())
	}
	if got := headline(cs, map[string]any{}, "full"); !strings.Contains(got, "| proxyless, sotw | 100 | 100 | failed |") {
		t.Errorf("headline row for Weft against a failed istiod missing:\n%s", got)
	}
}

func TestResultsWithoutTheGateSayNotRecorded(t *testing.T) {
	r := result{Label: "weft", Mode: "proxyless", Protocol: "sotw", Clients: 100}
	c := groupCases([]result{r})[0]
	if c.load() != "not recorded" || c.commits() != "not recorded" {
		t.Errorf("load %q, commits %q", c.load(), c.commits())
	}
}
