package main

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
)

// apiWrites reads the API server's request counters (its /metrics, through the kubeconfig's client) and tells the
// writes made between two readings by resource and verb: what the server under test asked of the API server while
// its proxies connected, or while a push went out. The load generator's own trigger PATCHes count too.
type apiWrites struct {
	server string
	client *http.Client
}

// writeCounts: "resource[/subresource] VERB" → requests so far.
type writeCounts map[string]float64

var (
	requestTotal = regexp.MustCompile(`^apiserver_request_total\{(.*)\} (\S+)$`)
	labelPair    = regexp.MustCompile(`(\w+)="([^"]*)"`)
	writeVerbs   = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}
)

// read returns the counters now; nil (and no figures) when the API server cannot be read.
func (a *apiWrites) read() writeCounts {
	if a == nil {
		return nil
	}
	resp, err := a.client.Get(a.server + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	out := writeCounts{}
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		m := requestTotal.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			labels[p[1]] = p[2]
		}
		if !writeVerbs[labels["verb"]] {
			continue
		}
		value, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		key := labels["resource"]
		if labels["subresource"] != "" {
			key += "/" + labels["subresource"]
		}
		out[key+" "+labels["verb"]] += value
	}
	return out
}

// since: the writes from `before` to `after`, only those that happened (nil when either reading failed).
func since(before, after writeCounts) map[string]int {
	if before == nil || after == nil {
		return nil
	}
	out := map[string]int{}
	for k, v := range after {
		if d := int(v - before[k]); d > 0 {
			out[k] = d
		}
	}
	return out
}
