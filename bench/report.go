package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// metric is one figure of one run.
type metric struct {
	name  string
	unit  string
	value float64
	cpu   bool // a CPU figure: goes to the CPU table
}

// rowKey names one row of the report.
type rowKey struct{ workload, name, unit string }

// results collects every figure by row and target, in first-seen row order.
type results struct {
	rows   []rowKey
	values map[rowKey]map[string][]float64
	cpu    map[rowKey]bool
}

func newResults() *results {
	return &results{values: map[rowKey]map[string][]float64{}, cpu: map[rowKey]bool{}}
}

func (r *results) add(workload, target string, ms []metric) {
	for _, m := range ms {
		k := rowKey{workload, m.name, m.unit}
		if r.values[k] == nil {
			r.values[k] = map[string][]float64{}
			r.rows = append(r.rows, k)
			r.cpu[k] = m.cpu
		}
		r.values[k][target] = append(r.values[k][target], m.value)
	}
}

// median returns the median of a row for a target, and false if it has none.
func (r *results) median(workload, name, target string) (float64, bool) {
	for _, k := range r.rows {
		if k.workload == workload && k.name == name {
			return median(r.values[k][target])
		}
	}
	return 0, false
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func cell(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return num(v)
}

func ratioCell(a, b float64, okA, okB bool) string {
	if !okA || !okB || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// header describes the run above the tables.
type header struct {
	command string
	started time.Time
	elapsed time.Duration
	rounds  int
	notes   []string
}

// write prints the report as markdown.
func (r *results) write(w io.Writer, h header, checks []check) {
	fmt.Fprintf(w, "# berth load benchmark\n\n")
	fmt.Fprintf(w, "Command: `%s`  \n", h.command)
	fmt.Fprintf(w, "Started %s, took %s; %d round(s), figures are medians over rounds.\n\n",
		h.started.Format(time.RFC3339), h.elapsed.Round(time.Second), h.rounds)
	for _, n := range h.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintf(w, "\n## Throughput, latency, memory\n\n")
	fmt.Fprintf(w, "| workload | metric | berth | distribution | berth / distribution | ceiling | berth / ceiling | distribution / ceiling |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range r.rows {
		if r.cpu[k] {
			continue
		}
		b, okB := median(r.values[k][targetBerth])
		d, okD := median(r.values[k][targetDistribution])
		c, okC := median(r.values[k][targetCeiling])
		fmt.Fprintf(w, "| %s | %s (%s) | %s | %s | %s | %s | %s | %s |\n", k.workload, k.name, k.unit,
			cell(b, okB), cell(d, okD), ratioCell(b, d, okB, okD),
			cell(c, okC), ratioCell(b, c, okB, okC), ratioCell(d, c, okD, okC))
	}
	fmt.Fprintf(w, "\n## CPU used during the timed part (cores; the machine has %d)\n\n", numCPU())
	fmt.Fprintf(w, "Per target: client / server / whole machine (all processes, I/O wait excluded).\n\n")
	fmt.Fprintf(w, "| workload | berth | distribution | ceiling |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|\n")
	var cur string
	var line []string
	flush := func() {
		if cur != "" {
			fmt.Fprintf(w, "| %s | %s |\n", cur, strings.Join(line, " | "))
		}
	}
	for _, k := range r.rows {
		if !r.cpu[k] || k.name != "client CPU" {
			continue
		}
		flush()
		cur, line = k.workload, nil
		for _, t := range []string{targetBerth, targetDistribution, targetCeiling} {
			c, okC := r.median(k.workload, "client CPU", t)
			s, okS := r.median(k.workload, "server CPU", t)
			m, okM := r.median(k.workload, "machine CPU", t)
			if !okC {
				line = append(line, "–")
				continue
			}
			line = append(line, cell(c, okC)+" / "+cell(s, okS)+" / "+cell(m, okM))
		}
	}
	flush()
	if len(checks) > 0 {
		fmt.Fprintf(w, "\n## Targets\n\n| target | measured | met |\n|---|---:|---|\n")
		for _, c := range checks {
			v, ok := c.eval(r)
			met := "no"
			switch {
			case !ok:
				met = "not measured"
			case c.pass(v):
				met = "yes"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.desc, cell(v, ok), met)
		}
	}
}

// check is one performance target, evaluated on the medians.
type check struct {
	desc      string
	workload  string
	name      string
	num, den  string // targets; den empty: the num value itself
	den2      string // metric name for the denominator when it differs
	threshold float64
	atMost    bool
}

func (c check) eval(r *results) (float64, bool) {
	a, okA := r.median(c.workload, c.name, c.num)
	if c.den == "" {
		return a, okA
	}
	name := c.name
	if c.den2 != "" {
		name = c.den2
	}
	b, okB := r.median(c.workload, name, c.den)
	if !okA || !okB || b == 0 {
		return 0, false
	}
	return a / b, true
}

func (c check) pass(v float64) bool {
	if c.atMost {
		return v <= c.threshold
	}
	return v >= c.threshold
}

// targetsToMeet lists the performance targets of berth against Distribution
// and against the machine ceiling.
func targetsToMeet(rssRow string) []check {
	return []check{
		{desc: "manifest GET rps ≥ 5× Distribution", workload: "manifest-get", name: "rps", num: targetBerth, den: targetDistribution, threshold: 5},
		{desc: "blob HEAD rps ≥ 4× Distribution", workload: "blob-head", name: "rps", num: targetBerth, den: targetDistribution, threshold: 4},
		{desc: "small-image push ≥ 3.5× Distribution", workload: "small-images", name: "images/s", num: targetBerth, den: targetDistribution, threshold: 3.5},
		{desc: "monolithic push ≥ 0.95× ceiling PUT", workload: "push-mono", name: "throughput", num: targetBerth, den: targetCeiling, threshold: 0.95},
		{desc: "chunked push ≥ 0.95× ceiling PUT", workload: "push-chunked", name: "throughput", num: targetBerth, den: targetCeiling, threshold: 0.95},
		{desc: "pull ≥ 0.95× ceiling GET", workload: "pull", name: "throughput", num: targetBerth, den: targetCeiling, threshold: 0.95},
		{desc: "peak RSS ≤ 0.5× Distribution (" + rssRow + ")", workload: "peak-rss", name: rssRow, num: targetBerth, den: targetDistribution, threshold: 0.5, atMost: true},
		{desc: "manifest GET rps with many tags ≥ 0.9× with 1k tags", workload: "tags", name: "rps many tags", num: targetBerth, den: targetBerth, den2: "rps 1k tags", threshold: 0.9},
	}
}
