// Command pause is the sandbox process of every pod: it holds the pod's
// namespaces open, reaps orphans re-parented to it, and exits on SIGINT or
// SIGTERM. The cluster scripts build it because no registry serves the
// upstream pause image here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child, so that orphans in the pod's PID
// namespace never linger as zombies.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
