package berth

import (
	"strings"
	"testing"
)

func TestValidRepository(t *testing.T) {
	good := []string{"a", "library/ubuntu", "a.b", "a_b", "a__b", "a---b", "a/b/c/d", "0", "x9.y-z_w"}
	bad := []string{"", "A", "a/", "/a", "a//b", "a..b", "a___b", ".a", "a.", "-a", "a-", "a_.b", "a b", "ä", string(make([]byte, 256))}
	for _, s := range good {
		if !ValidRepository(s) {
			t.Errorf("ValidRepository(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if ValidRepository(s) {
			t.Errorf("ValidRepository(%q) = true, want false", s)
		}
	}
}

func TestStoreNames(t *testing.T) {
	for _, ok := range []string{"a", "default", strings.Repeat("a", 50)} {
		if err := CheckRegistryName("t", ok); err != nil {
			t.Errorf("CheckRegistryName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "a-b", "a.b", "../x", strings.Repeat("a", 51)} {
		if KindOf(CheckRegistryName("t", bad)) != KindInvalid {
			t.Errorf("CheckRegistryName(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "a.b", "a/b", "..", strings.Repeat("a", 129)} {
		if KindOf(CheckUploadID("t", bad)) != KindInvalid {
			t.Errorf("CheckUploadID(%q) accepted", bad)
		}
	}
}
