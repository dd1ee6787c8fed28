package metadata

import (
	"strings"
	"testing"
)

func TestMigrationsLoad(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations start at %v, want version 1", ms)
	}
	for i, m := range ms {
		if i > 0 && m.version != ms[i-1].version+1 {
			t.Errorf("migration %s follows %s: numbers must not skip", m.name, ms[i-1].name)
		}
		if strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %s is empty", m.name)
		}
	}
}
