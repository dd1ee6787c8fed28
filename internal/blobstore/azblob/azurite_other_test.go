//go:build !linux

package azblob_test

import "os/exec"

// tieToParent does nothing where the kernel cannot stop a child with its
// parent; the deferred stop in TestMain is all there is.
func tieToParent(cmd *exec.Cmd) {}
