package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a scenario's child process if the
// suite dies first.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
