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

// perRound returns the median over rounds of f(a, b), where a and b are the
// figures of targets ta and tb of row k in the same round (the workloads of
// a group run each target and its variant next to each other), and false
// when there is none.
func (r *results) perRound(k rowKey, ta, tb string, f func(a, b float64) float64) (float64, bool) {
	a, b := r.values[k][ta], r.values[k][tb]
	var v []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			v = append(v, f(a[i], b[i]))
		}
	}
	return median(v)
}

func ratio(a, b float64) float64 { return a / b }
func minus(a, b float64) float64 { return a - b }

// has reports whether some row satisfies f.
func (r *results) has(f func(k rowKey) bool) bool { return slices.ContainsFunc(r.rows, f) }

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

// section is the table of a workload group: each pair compares a variant
// of a target with the target, as the time the variant takes over the
// time the target takes.
type section struct {
	title, intro string
	group        string
	pairs        []pair
	diff         bool // also the variant's latency minus the target's
}

// pair names a target and a variant of it, and their column headings.
type pair struct{ base, variant, baseLabel, variantLabel string }

// groupSections lists the tables of the workload groups.
func groupSections() []section {
	return []section{
		{title: "Token auth", group: groupAuth,
			intro: "Each registry with and without authentication. \"time\" is the time a request (or image, or byte) " +
				"takes with auth over the time without (for a rate the rate without over the rate with), " +
				"the median over rounds of the ratio within each round.",
			pairs: []pair{{targetBerth, targetBerthAuth, "berth", "berth, token auth"},
				{targetDistribution, targetDistBasic, "distribution", "distribution, basic auth"}}},
		{title: "Data endpoint redirect", group: groupRedirect, diff: true,
			intro: "berth's blobs read from the login server (data endpoint off) and through the 307 to the data endpoint " +
				"(on). \"time\" is the time through the redirect over the time without, \"difference\" the latency " +
				"through the redirect minus the latency without; both are medians over rounds of the figure within each round.",
			pairs: []pair{{targetDirect, targetRedirect, "direct", "via redirect"}}},
	}
}

// write prints the report as markdown.
func (r *results) write(w io.Writer, h header, sections []section, checks []check) {
	groupOf := map[string]string{}
	for _, wl := range allWorkloads() {
		groupOf[wl.name] = wl.group
	}
	inGroup := func(g string) func(workload string) bool {
		return func(workload string) bool { return groupOf[workload] == g }
	}
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
		if r.cpu[k] || groupOf[k.workload] != "" {
			continue
		}
		b, okB := median(r.values[k][targetBerth])
		d, okD := median(r.values[k][targetDistribution])
		c, okC := median(r.values[k][targetCeiling])
		fmt.Fprintf(w, "| %s | %s (%s) | %s | %s | %s | %s | %s | %s |\n", k.workload, k.name, k.unit,
			cell(b, okB), cell(d, okD), ratioCell(b, d, okB, okD),
			cell(c, okC), ratioCell(b, c, okB, okC), ratioCell(d, c, okD, okC))
	}
	if r.has(func(k rowKey) bool { return r.cpu[k] && groupOf[k.workload] == "" }) {
		fmt.Fprintf(w, "\n## CPU used during the timed part (cores; the machine has %d)\n\n", numCPU())
		fmt.Fprintf(w, "Per target: client / server / whole machine (all processes, I/O wait excluded).\n\n")
		r.writeCPU(w, inGroup(""), []string{targetBerth, targetDistribution, targetCeiling},
			[]string{targetBerth, targetDistribution, targetCeiling})
	}
	for _, s := range sections {
		r.writeSection(w, s, inGroup(s.group))
	}
	// Targets of workloads that did not run are left out.
	checks = slices.DeleteFunc(slices.Clone(checks), func(c check) bool {
		return !r.has(func(k rowKey) bool { return k.workload == c.workload })
	})
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
			measured := cell(v, ok)
			switch {
			case ok && c.diff:
				measured += " ms"
			case ok && c.den != "":
				measured += "×"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.desc, measured, met)
		}
	}
}

// writeCPU prints the CPU table of the workloads that keep accepts, one
// column per target.
func (r *results) writeCPU(w io.Writer, keep func(workload string) bool, targets, labels []string) {
	fmt.Fprintf(w, "| workload | %s |\n|---|%s\n", strings.Join(labels, " | "), strings.Repeat("---:|", len(labels)))
	for _, k := range r.rows {
		if !r.cpu[k] || k.name != "client CPU" || !keep(k.workload) {
			continue
		}
		var line []string
		for _, t := range targets {
			c, okC := r.median(k.workload, "client CPU", t)
			s, okS := r.median(k.workload, "server CPU", t)
			m, okM := r.median(k.workload, "machine CPU", t)
			if !okC {
				line = append(line, "–")
				continue
			}
			line = append(line, cell(c, okC)+" / "+cell(s, okS)+" / "+cell(m, okM))
		}
		fmt.Fprintf(w, "| %s | %s |\n", k.workload, strings.Join(line, " | "))
	}
}

// writeSection prints the table of a workload group and its CPU, or
// nothing when none of its workloads ran.
func (r *results) writeSection(w io.Writer, s section, keep func(workload string) bool) {
	rows := slices.DeleteFunc(slices.Clone(r.rows), func(k rowKey) bool { return r.cpu[k] || !keep(k.workload) })
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## %s\n\n%s\n\n| workload | metric |", s.title, s.intro)
	var targets, labels []string
	for _, p := range s.pairs {
		fmt.Fprintf(w, " %s | %s | time |", p.baseLabel, p.variantLabel)
		if s.diff {
			fmt.Fprintf(w, " difference |")
		}
		targets = append(targets, p.base, p.variant)
		labels = append(labels, p.baseLabel, p.variantLabel)
	}
	cols := 3
	if s.diff {
		cols = 4
	}
	fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---:|", cols*len(s.pairs)))
	for _, k := range rows {
		fmt.Fprintf(w, "| %s | %s (%s) |", k.workload, k.name, k.unit)
		for _, p := range s.pairs {
			b, okB := median(r.values[k][p.base])
			v, okV := median(r.values[k][p.variant])
			cost, okC := r.perRound(k, p.variant, p.base, ratio) // a time: variant over base
			if strings.HasSuffix(k.unit, "/s") {
				cost, okC = r.perRound(k, p.base, p.variant, ratio) // a rate: base over variant
			}
			costCell := "–"
			if okC {
				costCell = fmt.Sprintf("%.2f×", cost)
			}
			fmt.Fprintf(w, " %s | %s | %s |", cell(b, okB), cell(v, okV), costCell)
			if s.diff {
				d := "–"
				if diff, ok := r.perRound(k, p.variant, p.base, minus); ok && k.unit == "ms" {
					d = fmt.Sprintf("%+.3g ms", diff)
				}
				fmt.Fprintf(w, " %s |", d)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nCPU during the timed part, in cores (client / server / whole machine):\n\n")
	r.writeCPU(w, keep, targets, labels)
}

// check is one performance target, evaluated on the medians.
type check struct {
	desc      string
	workload  string
	name      string
	num, den  string // targets; den empty: the num value itself
	den2      string // metric name for the denominator when it differs
	diff      bool   // num minus den rather than num over den
	paired    bool   // the median over rounds of the figure within each round
	threshold float64
	atMost    bool
}

func (c check) eval(r *results) (float64, bool) {
	if c.paired {
		i := slices.IndexFunc(r.rows, func(k rowKey) bool { return k.workload == c.workload && k.name == c.name })
		if i < 0 {
			return 0, false
		}
		if c.diff {
			return r.perRound(r.rows[i], c.num, c.den, minus)
		}
		return r.perRound(r.rows[i], c.num, c.den, ratio)
	}
	a, okA := r.median(c.workload, c.name, c.num)
	if c.den == "" {
		return a, okA
	}
	name := c.name
	if c.den2 != "" {
		name = c.den2
	}
	b, okB := r.median(c.workload, name, c.den)
	switch {
	case !okA || !okB:
		return 0, false
	case c.diff:
		return a - b, true
	case b == 0:
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
		{desc: "manifest GET with token auth: time ≤ 1.2× without (rps without / with)", workload: "auth-manifest-get", name: "rps", num: targetBerth, den: targetBerthAuth, paired: true, threshold: 1.2, atMost: true},
		{desc: "blob HEAD with token auth: time ≤ 1.2× without (rps without / with)", workload: "auth-blob-head", name: "rps", num: targetBerth, den: targetBerthAuth, paired: true, threshold: 1.2, atMost: true},
		{desc: "small-image push with token auth: time ≤ 1.2× without", workload: "auth-small-images", name: "images/s", num: targetBerth, den: targetBerthAuth, paired: true, threshold: 1.2, atMost: true},
		{desc: "big-blob pull with token auth: time ≤ 1.2× without", workload: "auth-pull", name: "throughput", num: targetBerth, den: targetBerthAuth, paired: true, threshold: 1.2, atMost: true},
		{desc: "big-blob pull through the data endpoint redirect: time ≤ 1.05× direct", workload: "redirect-pull", name: "throughput", num: targetDirect, den: targetRedirect, paired: true, threshold: 1.05, atMost: true},
		{desc: "small-blob GET through the redirect: p50 < direct p50 + 1 ms", workload: "redirect-small-get", name: "p50", num: targetRedirect, den: targetDirect, diff: true, paired: true, threshold: 1, atMost: true},
	}
}
