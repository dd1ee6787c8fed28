package ratelimit

import (
	"testing"

	"berth/internal/berth"
)

func TestParseLimits(t *testing.T) {
	got, err := ParseLimits("basic=60/6, Premium=100000/20000")
	if err != nil {
		t.Fatal(err)
	}
	if got[berth.SKUBasic] != (Limits{60, 6}) || got[berth.SKUPremium] != (Limits{100000, 20000}) || got[berth.SKUStandard] != DefaultLimits()[berth.SKUStandard] {
		t.Fatalf("limits = %+v", got)
	}
	for _, bad := range []string{"Basic", "Basic=1", "Gold=1/1", "Basic=0/1", "Basic=x/1"} {
		if _, err := ParseLimits(bad); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("ParseLimits(%q) = %v", bad, err)
		}
	}
}
