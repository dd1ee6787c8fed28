package lab

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLabTeardownLeavesNothing builds a small lab (two hosts on the bridge,
// a firewall, a process in a namespace) in a subtest, and checks after the
// subtest's cleanup that nothing of it is left: no namespace with its
// prefix, no /etc/netns directory, no route, no process.
func TestLabTeardownLeavesNothing(t *testing.T) {
	requireLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var (
		prefix string
		metric int
		p      *proc
	)
	t.Run("lab", func(t *testing.T) {
		start := time.Now()
		l := newLab(t, ctx)
		a := l.addHost("a", "10.200.0.1")
		b := l.addHost("b", "10.200.0.2")
		a.setHosts("10.200.0.2 b.lab")
		b.setFirewall([]string{"10.200.0.1:80"})
		p = a.start("sleeper", nil, "sleep", "60")
		prefix, metric = l.prefix, l.metric
		t.Logf("lab %s set up in %s", prefix, time.Since(start).Round(time.Millisecond))

		// The lab is really there: the check below would see it.
		found, err := leftovers(ctx, prefix, metric)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(found, "\n"); len(found) != 7 {
			t.Fatalf("a running lab shows %d things, want 3 namespaces, 3 directories and a route:\n%s", len(found), got)
		}
		// The root namespace cannot route to the lab (ip route get asks
		// the routing table; it sends nothing).
		if _, _, err := run(ctx, nil, "ip", "route", "get", "10.200.0.1"); err == nil || !strings.Contains(stderrOf(err), "No route to host") {
			t.Errorf("ip route get 10.200.0.1 in the root namespace: %v, want No route to host", err)
		}
		// The hosts see each other over the bridge, and only the lab.
		out := a.mustExec(nil, "ip", "-4", "route", "show")
		if strings.Contains(string(out), "default") {
			t.Errorf("a lab host has a default route:\n%s", out)
		}
		// Nothing listens on a: its kernel answers b's connection with a
		// reset (curl exit status 7), where a broken bridge would time out
		// (28).
		_, _, err = b.exec(nil, "curl", "-sS", "--connect-timeout", "2", "http://10.200.0.1:80/")
		if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 7 {
			t.Errorf("connecting from b to a port nobody listens on: %v, want curl's exit status 7", err)
		}
	})

	if prefix == "" {
		return // the lab failed before it had a name
	}
	found, err := leftovers(ctx, prefix, metric)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("teardown left:\n%s", strings.Join(found, "\n"))
	}
	if p == nil {
		return // the subtest failed before it started the process
	}
	select {
	case <-p.done:
	default:
		t.Errorf("the lab's process (pid %d) still runs after teardown", p.cmd.Process.Pid)
	}
}
