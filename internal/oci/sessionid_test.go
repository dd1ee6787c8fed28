package oci

import (
	"strings"
	"testing"
	"time"
)

func TestFreshSession(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	id := newSessionID("default", "team/app", now)
	if len(id) != sessionIDLen || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("id %q: want %d hex digits", id, sessionIDLen)
	}
	flip := []byte(id)
	flip[3] ^= 1
	tests := []struct {
		name, id, registry, repo string
		at                       time.Time
		ok                       bool
	}{
		{"handed out", id, "default", "team/app", now, true},
		{"a day later", id, "default", "team/app", now.Add(24 * time.Hour), true},
		{"expired", id, "default", "team/app", now.Add(maxSessionAge + time.Second), false},
		{"from the future", id, "default", "team/app", now.Add(-time.Hour), false},
		{"other repository", id, "default", "team/other", now, false},
		{"other registry", id, "other", "team/app", now, false},
		{"tampered", string(flip), "default", "team/app", now, false},
		{"too short", id[:len(id)-2], "default", "team/app", now, false},
		{"not hex", strings.Repeat("z", sessionIDLen), "default", "team/app", now, false},
		{"older form", strings.Repeat("ab", 16), "default", "team/app", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, ok := freshSession(tt.id, tt.registry, tt.repo, tt.at)
			if ok != tt.ok {
				t.Fatalf("freshSession = %v, want %v", ok, tt.ok)
			}
			if ok && !created.Equal(now) {
				t.Errorf("created %v, want %v", created, now)
			}
		})
	}
}

func FuzzFreshSession(f *testing.F) {
	f.Add(newSessionID("default", "a", time.Now()), "a")
	f.Add(strings.Repeat("0", sessionIDLen), "a")
	f.Fuzz(func(t *testing.T, id, repo string) {
		freshSession(id, "default", repo, time.Now())
	})
}
