package azblob_test

import (
	"os/exec"
	"syscall"
)

// tieToParent makes the kernel stop cmd when the test binary dies, even by
// a test timeout's panic, so that no Azurite outlives its tests.
func tieToParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
