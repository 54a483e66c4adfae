// Command tfauth is a drop-in `terraform` that authenticates every AWS
// identity a root module needs before handing off to the real terraform.
// Installed as `terraform` it is the shim; invoked as `tfauth` it is its own
// command line (see `tfauth help`).
package main

import (
	"os"

	"github.com/tfauth/tfauth/wrapper"
)

// version is set at release time with -ldflags "-X main.version=...".
var version string

func main() {
	os.Exit(wrapper.Main(wrapper.Process{
		Args:    os.Args,
		Env:     os.Environ(),
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,

		ReraiseSignals: true,
	}))
}
