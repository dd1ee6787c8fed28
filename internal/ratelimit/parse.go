package ratelimit

import (
	"strconv"
	"strings"

	"berth/internal/berth"
)

// ParseLimits reads per-SKU limits written as
// "Basic=1000/100,Standard=3000/500,Premium=10000/2000": read and write
// operations per minute for each SKU named (SKUs not named keep their
// default). It returns KindInvalid naming the part it cannot read.
func ParseLimits(s string) (map[berth.SKU]Limits, error) {
	const op = "ratelimit.ParseLimits"
	out := DefaultLimits()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rates, ok := strings.Cut(part, "=")
		read, write, ok2 := strings.Cut(rates, "/")
		if !ok || !ok2 {
			return nil, berth.E(op, berth.KindInvalid, "rate limit %q is not SKU=READS/WRITES (operations per minute)", part)
		}
		var sku berth.SKU
		for k := range out {
			if strings.EqualFold(string(k), strings.TrimSpace(name)) {
				sku = k
			}
		}
		if sku == "" {
			return nil, berth.E(op, berth.KindInvalid, "rate limit %q names no SKU; use Basic, Standard or Premium", part)
		}
		r, err1 := strconv.ParseFloat(strings.TrimSpace(read), 64)
		w, err2 := strconv.ParseFloat(strings.TrimSpace(write), 64)
		if err1 != nil || err2 != nil || r <= 0 || w <= 0 {
			return nil, berth.E(op, berth.KindInvalid, "rate limit %q needs positive numbers of operations per minute", part)
		}
		out[sku] = Limits{Read: r, Write: w}
	}
	return out, nil
}
