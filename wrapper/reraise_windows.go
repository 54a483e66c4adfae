package wrapper

import "syscall"

// reraise does nothing on Windows, where the exit code carries the result.
func reraise(syscall.Signal) {}
