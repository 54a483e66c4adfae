//go:build unix

package wrapper

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// reraise ends the process by sig with its default action. If that does
// not happen (the signal is ignored), it returns and the caller exits
// 128+N instead.
func reraise(sig syscall.Signal) {
	signal.Reset(sig)
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		return
	}
	time.Sleep(100 * time.Millisecond)
}
