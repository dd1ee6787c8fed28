package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnOneDataDir starts a second berth on the data directory
// of a running one: it must refuse to start, and say why, because each
// process keeps the directory's tags in memory as its only writer. The first
// keeps serving.
func TestSecondServerOnOneDataDir(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, berthBin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(freePort(t)),
		"--data-dir", s.dataDir, "--auth=false").CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("second berth on one data directory: %v (context %v)\n%s", err, ctx.Err(), out)
	}
	if !strings.Contains(string(out), "open in another process") {
		t.Fatalf("second berth failed without naming the cause:\n%s", out)
	}
	resp, err := http.Get(s.url("/v2/"))
	if err != nil {
		t.Fatalf("first berth after the second one failed: %v", err)
	}
	resp.Body.Close()
}
