// Command floorshim is the least a Go shim can do: exec the program named
// by $FLOORSHIM_TARGET with the same arguments and environment. shimbench
// measures it beside tfauth to show the floor every Go exec shim pays
// (process start-up and Go runtime initialisation) on the machine at hand.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	err := syscall.Exec(os.Getenv("FLOORSHIM_TARGET"), os.Args, os.Environ())
	fmt.Fprintln(os.Stderr, "floorshim:", err)
	os.Exit(1)
}
