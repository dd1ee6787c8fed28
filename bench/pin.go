package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
)

// pinnedEnv is set in the environment of a tool that -pin re-ran under
// taskset(1); its value is the core that the servers get.
const pinnedEnv = "BENCH_SERVER_CPU"

// runPinned re-runs this tool with args on every core but the last, under
// taskset, and tells it to start every server on the last core. The load
// generator then takes no CPU from the server it measures, and the servers
// compare per core: each gets one core, and none shares it with the client.
func runPinned(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	n := runtime.NumCPU()
	if n < 2 {
		return errors.New("-pin needs at least 2 CPUs")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("-pin needs taskset (util-linux): %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	clients := "0"
	if n > 2 {
		clients = fmt.Sprintf("0-%d", n-2)
	}
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", clients, exe}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", pinnedEnv, n-1))
	return cmd.Run()
}

// serverCommand returns the command that runs bin with args: on the servers'
// core when the tool runs pinned. taskset execs bin, so the process keeps
// its pid, and its CPU and memory are still read by pid.
func serverCommand(bin string, args []string) *exec.Cmd {
	if cpu := os.Getenv(pinnedEnv); cpu != "" {
		return exec.Command("taskset", append([]string{"-c", cpu, bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

// layout says where the client and the servers ran.
func layout() string {
	if cpu := os.Getenv(pinnedEnv); cpu != "" {
		return fmt.Sprintf("-pin: every server ran on core %s alone, the client on the other cores; the CPU table shows what each used", cpu)
	}
	return "client and servers share the machine; the CPU table shows what each used"
}
