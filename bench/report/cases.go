package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// caseResult is one case (server, mode, protocol, client count) over its repeats: the figures of a table row are
// medians over used, the runs the gate did not mark noisy (all of them, marked, when every run was noisy).
type caseResult struct {
	Label, Mode, Protocol string
	Clients               int
	used                  []result // successful runs the figures come from
	noisyLeftOut          int      // successful runs left out because quieter ones exist
	failed                []result // runs that ended with an error
}

func (c caseResult) ok() bool { return len(c.used) > 0 }

// allNoisy: the figures come from runs the gate marked noisy (no quiet run of the case finished).
func (c caseResult) allNoisy() bool { return c.ok() && noisy(c.used[0]) }

// The figures the ratios and the headline compare, in the units the tables print.
func pushP99(r result) float64         { return r.Push.Latency.P99 }
func connectStorm(r result) float64    { return r.Connect.Seconds }
func rssPerClientKB(r result) float64  { return r.Server.RSSPerClient / 1024 }
func cpuPerTriggerMs(r result) float64 { return r.Push.ServerCPUSeconds * 1000 }
func initialKB(r result) float64       { return r.Connect.InitialBytes.Mean / 1024 }

func noisy(r result) bool { return r.Load != nil && r.Load.Noisy }

// groupCases folds the runs of each case together, in table order: proxyless before envoy, SotW before delta,
// then peerOrder, then client count.
func groupCases(results []result) []caseResult {
	byKey := map[string]*caseResult{}
	var keys []string
	for _, r := range results {
		key := fmt.Sprint(r.Label, r.Mode, r.Protocol, r.Clients)
		c, seen := byKey[key]
		if !seen {
			c = &caseResult{Label: r.Label, Mode: r.Mode, Protocol: r.Protocol, Clients: r.Clients}
			byKey[key] = c
			keys = append(keys, key)
		}
		if r.Error != "" {
			c.failed = append(c.failed, r)
		} else {
			c.used = append(c.used, r)
		}
	}
	var out []caseResult
	for _, key := range keys {
		c := *byKey[key]
		quiet := slices.DeleteFunc(slices.Clone(c.used), noisy)
		if len(quiet) > 0 {
			c.noisyLeftOut = len(c.used) - len(quiet)
			c.used = quiet
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b caseResult) int {
		if c := strings.Compare(a.Mode+a.Protocol, b.Mode+b.Protocol); c != 0 {
			return -c
		}
		if c := slices.Index(peerOrder, a.Label) - slices.Index(peerOrder, b.Label); c != 0 {
			return c
		}
		return a.Clients - b.Clients
	})
	return out
}

// values is f over the used runs, sorted.
func (c caseResult) values(f func(result) float64) []float64 {
	var vs []float64
	for _, r := range c.used {
		vs = append(vs, f(r))
	}
	sort.Float64s(vs)
	return vs
}

// median of f over the used runs (the mean of the middle two for an even count).
func (c caseResult) median(f func(result) float64) float64 {
	vs := c.values(f)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// cell prints the median, and the spread (min–max) when the runs differ at the printed precision.
func (c caseResult) cell(f func(result) float64, format string) string {
	vs := c.values(f)
	med := fmt.Sprintf(format, c.median(f))
	lo, hi := fmt.Sprintf(format, vs[0]), fmt.Sprintf(format, vs[len(vs)-1])
	if lo == hi {
		return med
	}
	return fmt.Sprintf("%s (%s–%s)", med, lo, hi)
}

// runs says how many runs the figures come from and what was left out.
func (c caseResult) runs() string {
	if !c.ok() {
		return fmt.Sprintf("%d failed", len(c.failed))
	}
	s := fmt.Sprint(len(c.used))
	var notes []string
	if c.allNoisy() {
		notes = append(notes, "all noisy")
	}
	if c.noisyLeftOut > 0 {
		notes = append(notes, fmt.Sprintf("%d noisy left out", c.noisyLeftOut))
	}
	if len(c.failed) > 0 {
		notes = append(notes, fmt.Sprintf("%d failed", len(c.failed)))
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// load gives the 1-minute load average before and after the used runs (ranges when they differ).
func (c caseResult) load() string {
	runs := c.used
	if !c.ok() {
		runs = c.failed
	}
	var before, after []float64
	for _, r := range runs {
		if r.Load != nil {
			before, after = append(before, r.Load.Before), append(after, r.Load.After)
		}
	}
	if len(before) == 0 {
		return "not recorded"
	}
	span := func(vs []float64) string {
		lo, hi := fmt.Sprintf("%.1f", slices.Min(vs)), fmt.Sprintf("%.1f", slices.Max(vs))
		if lo == hi {
			return lo
		}
		return lo + "–" + hi
	}
	return span(before) + " → " + span(after)
}

// commits names the Weft commits the runs were made at.
func (c caseResult) commits() string {
	runs := append(slices.Clone(c.used), c.failed...)
	var out []string
	for _, r := range runs {
		if r.WeftCommit != "" && !slices.Contains(out, r.WeftCommit) {
			out = append(out, r.WeftCommit)
		}
	}
	if len(out) == 0 {
		return "not recorded"
	}
	return strings.Join(out, ", ")
}

// failure is the error of a case none of whose runs finished.
func (c caseResult) failure() string {
	return strings.ReplaceAll(c.failed[len(c.failed)-1].Error, "|", "/")
}
