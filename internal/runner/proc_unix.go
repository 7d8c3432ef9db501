//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the sample in a process group of its own, so that stopping it reaches what it
// started (npm's node, Flask's reloader child) and the terminal's Ctrl-C reaches only this tool,
// which stops the sample itself.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// interruptGroup sends SIGINT to the sample's process group, as Ctrl-C in its terminal would.
func interruptGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

// killGroup kills the sample's process group.
func killGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
