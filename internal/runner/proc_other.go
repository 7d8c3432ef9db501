//go:build !unix

package runner

import (
	"os"
	"os/exec"
	"strconv"
)

func ownGroup(*exec.Cmd) {}

// interruptGroup: Windows has no SIGINT to send to another process; the tree is ended instead.
func interruptGroup(cmd *exec.Cmd) {
	if cmd.Process.Signal(os.Interrupt) != nil {
		killGroup(cmd)
	}
}

// killGroup ends the sample and what it started (npm's node, dotnet's app): Process.Kill would
// end only npm.exe or dotnet.exe and leave the child holding the port. taskkill /T ends the
// tree. [Untested: no Windows on the project's machines.]
func killGroup(cmd *exec.Cmd) {
	if exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid)).Run() != nil {
		_ = cmd.Process.Kill()
	}
}
