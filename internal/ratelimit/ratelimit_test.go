package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth/internal/berth"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newLimiter(t *testing.T, cfg Config) (*Limiter, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg.Now = c.Now
	l, err := New(cfg, NewMemory(0))
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// drain calls Allow until it refuses and returns how many passed and the
// wait of the refusal.
func drain(t *testing.T, l *Limiter, key Key) (int, time.Duration) {
	t.Helper()
	for n := 0; n < 100_000; n++ {
		ok, wait, err := l.Allow(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n, wait
		}
	}
	t.Fatal("never refused")
	return 0, 0
}

func TestBurstThenRefusal(t *testing.T) {
	tests := []struct {
		sku   berth.SKU
		op    Op
		burst int
		wait  time.Duration // the emission interval: a minute / limit
	}{
		{berth.SKUBasic, Read, 1000, 60 * time.Millisecond},
		{berth.SKUBasic, Write, 100, 600 * time.Millisecond},
		{berth.SKUStandard, Read, 3000, 20 * time.Millisecond},
		{berth.SKUStandard, Write, 500, 120 * time.Millisecond},
		{berth.SKUPremium, Read, 10000, 6 * time.Millisecond},
		{berth.SKUPremium, Write, 2000, 30 * time.Millisecond},
		{"", Write, 100, 600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(string(tt.sku)+" "+tt.op.String(), func(t *testing.T) {
			l, _ := newLimiter(t, Config{})
			n, wait := drain(t, l, Key{Registry: "r", SKU: tt.sku, Op: tt.op})
			if n != tt.burst || wait != tt.wait {
				t.Fatalf("%d passed, then wait %v; want %d and %v", n, wait, tt.burst, tt.wait)
			}
		})
	}
}

func TestRetryAfterAndRefill(t *testing.T) {
	l, c := newLimiter(t, Config{})
	key := Key{Registry: "r", SKU: berth.SKUBasic, Op: Write}
	if n, _ := drain(t, l, key); n != 100 {
		t.Fatalf("burst %d", n)
	}
	steps := []struct {
		name    string
		advance time.Duration
		ok      bool
		wait    time.Duration
	}{
		{"still empty", 0, false, 600 * time.Millisecond},
		{"1ms short", 599 * time.Millisecond, false, time.Millisecond},
		{"refilled one", time.Millisecond, true, 0},
		{"empty again", 0, false, 600 * time.Millisecond},
		{"partway", 250 * time.Millisecond, false, 350 * time.Millisecond},
		{"a refusal does not push the wait back", 0, false, 350 * time.Millisecond},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.Advance(st.advance)
			ok, wait, err := l.Allow(context.Background(), key)
			if err != nil || ok != st.ok || wait != st.wait {
				t.Fatalf("Allow = %v, %v, %v; want %v, %v", ok, wait, err, st.ok, st.wait)
			}
		})
	}
	t.Run("half a minute refills half the burst", func(t *testing.T) {
		c.Advance(30*time.Second - 250*time.Millisecond)
		if n, wait := drain(t, l, key); n != 50 || wait != 600*time.Millisecond {
			t.Fatalf("%d passed, wait %v; want 50 and 600ms", n, wait)
		}
	})
	t.Run("a full refill holds only the burst", func(t *testing.T) {
		c.Advance(time.Hour)
		if n, _ := drain(t, l, key); n != 100 {
			t.Fatalf("%d passed, want 100", n)
		}
	})
}

func TestReadsAndWritesApart(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	drain(t, l, Key{Registry: "r", Op: Write})
	if ok, _, _ := l.Allow(context.Background(), Key{Registry: "r", Op: Read}); !ok {
		t.Fatal("writes used up the reads")
	}
	if ok, _, _ := l.Allow(context.Background(), Key{Registry: "other", Op: Write}); !ok {
		t.Fatal("one registry used up another's writes")
	}
}

func TestIdentityLimits(t *testing.T) {
	l, c := newLimiter(t, Config{IdentityShare: 0.5})
	key := func(id string) Key { return Key{Registry: "r", Identity: id, SKU: berth.SKUBasic, Op: Write} }
	ctx := context.Background()
	steps := []struct {
		name     string
		identity string
		passes   int
		identErr bool // refused by the identity's own limit
		wait     time.Duration
	}{
		{"a gets its share", "token:a@r", 50, true, 1200 * time.Millisecond},
		{"b is independent of a", "token:b@r", 50, true, 1200 * time.Millisecond},
		{"c is under the registry's limit", "token:c@r", 0, false, 600 * time.Millisecond},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n := 0
			var err error
			for ; n < 1000; n++ {
				if err = l.Check(ctx, key(st.identity)); err != nil {
					break
				}
			}
			var le *LimitError
			if !errors.As(err, &le) || berth.KindOf(err) != berth.KindTooManyRequests {
				t.Fatalf("refusal %v is not a *LimitError of KindTooManyRequests", err)
			}
			if n != st.passes || le.PerIdentity != st.identErr || le.RetryAfter != st.wait {
				t.Fatalf("%d passed, then %+v; want %d, identity %v, wait %v", n, le, st.passes, st.identErr, st.wait)
			}
		})
	}
	t.Run("messages name the limit", func(t *testing.T) {
		err := l.Check(ctx, key("token:a@r"))
		if want := `token:a@r may make 50 write operations per minute in registry "r" (SKU Basic); retry after 1.2s`; berth.Message(err) != want {
			t.Errorf("identity message %q\nwant %q", berth.Message(err), want)
		}
		c.Advance(time.Minute)
		drain(t, l, key(""))
		err = l.Check(ctx, key(""))
		if want := `registry "r" allows 100 write operations per minute (SKU Basic); retry after 600ms`; berth.Message(err) != want {
			t.Errorf("registry message %q\nwant %q", berth.Message(err), want)
		}
	})
}

func TestConcurrentAllow(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	var passed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 250 {
				key := Key{Registry: "r", Identity: []string{"a", "b"}[g%2], Op: Write}
				ok, _, err := l.Allow(context.Background(), key)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					passed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 100 {
		t.Fatalf("%d writes passed at one instant, want exactly the burst of 100", n)
	}
}

func TestMemoryBounded(t *testing.T) {
	m := NewMemory(10)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i := range 100 {
		if _, _, err := m.Take(ctx, strings.Repeat("x", i+1), 1, 5, now); err != nil {
			t.Fatal(err)
		}
		if m.Len() > 10 {
			t.Fatalf("%d buckets held, bound is 10", m.Len())
		}
	}
	now = now.Add(sweepEvery)
	if _, _, err := m.Take(ctx, "last", 1, 5, now); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1 {
		t.Fatalf("%d buckets after every other one refilled, want 1", m.Len())
	}
}

func TestMemoryInvalid(t *testing.T) {
	for _, tt := range []struct{ rate, burst float64 }{{0, 1}, {-1, 1}, {1, 0.5}, {1, 0}} {
		_, _, err := NewMemory(0).Take(context.Background(), "b", tt.rate, tt.burst, time.Now())
		if berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("rate %v burst %v: %v", tt.rate, tt.burst, err)
		}
	}
}

type failingBuckets struct{}

func (failingBuckets) Take(context.Context, string, float64, float64, time.Time) (bool, time.Duration, error) {
	return false, 0, berth.E("db", berth.KindUnavailable, "database is down")
}

func TestErrors(t *testing.T) {
	l, err := New(Config{}, failingBuckets{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Allow(context.Background(), Key{Registry: "r"}); berth.KindOf(err) != berth.KindUnavailable {
		t.Errorf("failing buckets: %v", err)
	}
	l, _ = newLimiter(t, Config{})
	if _, _, err := l.Allow(context.Background(), Key{Registry: "r", SKU: "Gold"}); berth.KindOf(err) != berth.KindInvalid || !strings.Contains(err.Error(), `no rate limits for SKU "Gold"`) {
		t.Errorf("unknown SKU: %v", err)
	}
	for _, cfg := range []Config{
		{IdentityShare: 1.5},
		{IdentityShare: -1},
		{Burst: -time.Second},
		{Limits: map[berth.SKU]Limits{berth.SKUBasic: {Read: 0, Write: 1}}},
	} {
		if _, err := New(cfg, NewMemory(0)); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("New(%+v) = %v, want KindInvalid", cfg, err)
		}
	}
}

func TestOpOf(t *testing.T) {
	for method, want := range map[string]Op{
		"GET": Read, "HEAD": Read, "OPTIONS": Read,
		"PUT": Write, "POST": Write, "PATCH": Write, "DELETE": Write,
	} {
		t.Run(method, func(t *testing.T) {
			if got := OpOf(method); got != want {
				t.Errorf("OpOf = %v, want %v", got, want)
			}
		})
	}
}

func TestPrincipalLimiter(t *testing.T) {
	l, _ := newLimiter(t, Config{IdentityShare: 0.5})
	pl := PrincipalLimiter{Limiter: l}
	reg := berth.Registry{Name: "r", Settings: berth.Settings{SKU: berth.SKUStandard}}
	ci := berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "r"}
	n := 0
	for ; n < 1000; n++ {
		ok, wait, err := pl.Allow(context.Background(), reg, ci, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if wait != 240*time.Millisecond {
				t.Errorf("wait %v, want 240ms (half of Standard's 500 writes a minute)", wait)
			}
			break
		}
	}
	if n != 250 {
		t.Fatalf("%d writes of one token passed, want 250", n)
	}
	if ok, _, _ := pl.Allow(context.Background(), reg, ci, false); !ok {
		t.Fatal("a read was refused after writes")
	}
	anon := berth.Principal{Kind: berth.PrincipalAnonymous, Registry: "r"}
	if ok, _, _ := pl.Allow(context.Background(), reg, anon, true); !ok {
		t.Fatal("another identity was refused")
	}
}

func BenchmarkAllow(b *testing.B) {
	l, err := New(Config{Limits: map[berth.SKU]Limits{berth.SKUBasic: {Read: 1e12, Write: 1e12}}}, NewMemory(0))
	if err != nil {
		b.Fatal(err)
	}
	key := Key{Registry: "r", Identity: "token:ci@r", Op: Read}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := l.Allow(context.Background(), key); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
