//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Helper programs the scripts run. testscript.Main installs the test binary
// under these names on PATH.

// ptydrive runs a command on a new pseudo-terminal, as a person at a
// terminal would: `ptydrive [-timeout D] [-expect RE -send TEXT]... -- CMD
// ARGS...`. Each -expect waits for RE in the output so far (after the
// previous match), then writes the matching -send (Go escapes: "yes\r",
// "\x03" for Ctrl-C). It prints everything the terminal showed to stdout and
// exits with the command's status (128+N when killed by signal N).
func ptydrive() {
	args := os.Args[1:]
	timeout := 90 * time.Second
	type step struct {
		expect *regexp.Regexp
		send   string
	}
	var steps []step
	for len(args) > 0 && args[0] != "--" {
		if len(args) < 2 {
			fail("ptydrive: %s needs a value", args[0])
		}
		switch args[0] {
		case "-timeout":
			d, err := time.ParseDuration(args[1])
			if err != nil {
				fail("ptydrive: %v", err)
			}
			timeout = d
		case "-expect":
			steps = append(steps, step{expect: regexp.MustCompile(args[1])})
		case "-send":
			s, err := strconv.Unquote(`"` + args[1] + `"`)
			if err != nil {
				fail("ptydrive: bad -send %q: %v", args[1], err)
			}
			if len(steps) == 0 {
				steps = append(steps, step{})
			}
			steps[len(steps)-1].send = s
		default:
			fail("ptydrive: unknown option %s", args[0])
		}
		args = args[2:]
	}
	if len(args) < 2 {
		fail("usage: ptydrive [-expect RE -send TEXT]... -- CMD ARGS...")
	}
	cmd := exec.Command(args[1], args[2:]...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		fail("ptydrive: %v", err)
	}
	var mu sync.Mutex
	var out bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				close(readDone)
				return
			}
		}
	}()
	deadline := time.Now().Add(timeout)
	pos := 0
	for _, s := range steps {
		for s.expect != nil {
			mu.Lock()
			loc := s.expect.FindIndex(out.Bytes()[pos:])
			mu.Unlock()
			if loc != nil {
				pos += loc[1]
				break
			}
			if time.Now().After(deadline) {
				mu.Lock()
				os.Stdout.Write(out.Bytes())
				mu.Unlock()
				fail("ptydrive: timed out waiting for %q", s.expect)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if s.send != "" {
			if _, err := f.Write([]byte(s.send)); err != nil {
				fail("ptydrive: write: %v", err)
			}
		}
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waitErr:
	case <-time.After(time.Until(deadline)):
		_ = cmd.Process.Kill()
		fail("ptydrive: timed out waiting for the command to exit")
	}
	select {
	case <-readDone:
	case <-time.After(2 * time.Second):
	}
	f.Close()
	mu.Lock()
	os.Stdout.Write(out.Bytes())
	mu.Unlock()
	os.Exit(statusOf(werr))
}

// sigdrive starts a command, waits until a line of its stdout matches
// -wait, sends it -sig (to its PID, or with -group to its whole process
// group) -count times, and exits with its status: `sigdrive -sig TERM
// [-wait RE] [-group] [-count N] -- CMD ARGS...`. Its stdout is copied to
// stdout.
func sigdrive() {
	fs := flag.NewFlagSet("sigdrive", flag.ExitOnError)
	sigName := fs.String("sig", "TERM", "INT, TERM, HUP or KILL")
	wait := fs.String("wait", "^ready$", "regexp for the stdout line to wait for")
	group := fs.Bool("group", false, "signal the whole process group")
	count := fs.Int("count", 1, "how many signals to send")
	after := fs.Duration("after", 0, "send the signal this long after the start instead of waiting for -wait")
	within := fs.Duration("within", 0, "fail unless the command exits this soon after the signal")
	expectPID := fs.Bool("expect-pid", false, "fail unless a stdout line is pid=<the PID sigdrive started>: the program that printed it replaced the started process instead of running as its child")
	fs.Parse(os.Args[1:])
	args := fs.Args()
	if len(args) == 0 {
		fail("usage: sigdrive -sig TERM -- CMD ARGS...")
	}
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "KILL": syscall.SIGKILL}[*sigName]
	if sig == 0 {
		fail("sigdrive: unknown signal %s", *sigName)
	}
	re := regexp.MustCompile(*wait)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fail("sigdrive: %v", err)
	}
	if err := cmd.Start(); err != nil {
		fail("sigdrive: %v", err)
	}
	sc := bufio.NewScanner(stdout)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var once sync.Once
	var sentAt time.Time
	var sentMu sync.Mutex
	send := func() {
		once.Do(func() {
			sentMu.Lock()
			sentAt = time.Now()
			sentMu.Unlock()
			target := cmd.Process.Pid
			if *group {
				target = -target
			}
			for i := 0; i < *count; i++ {
				if err := syscall.Kill(target, sig); err != nil {
					fail("sigdrive: kill: %v", err)
				}
			}
		})
	}
	if *after > 0 {
		time.AfterFunc(*after, send)
	}
	pidLine := fmt.Sprintf("pid=%d", cmd.Process.Pid)
	sawPID := false
	for sc.Scan() {
		fmt.Println(sc.Text())
		if sc.Text() == pidLine {
			sawPID = true
		}
		if *after == 0 && re.MatchString(sc.Text()) {
			send()
		}
	}
	_, _ = io.Copy(os.Stdout, stdout)
	err = cmd.Wait()
	exited := time.Now()
	neverSent := false
	once.Do(func() { neverSent = true })
	if neverSent {
		fail("sigdrive: never saw a line matching %q", *wait)
	}
	sentMu.Lock()
	took := exited.Sub(sentAt)
	sentMu.Unlock()
	if *within > 0 && took > *within {
		fail("sigdrive: the command took %v to exit after the signal; want at most %v", took.Round(time.Millisecond), *within)
	}
	if *expectPID && !sawPID {
		fail("sigdrive: no stdout line %q: the program ran in another process than the one started", pidLine)
	}
	os.Exit(statusOf(err))
}

// statusOf turns a Wait error into a shell-style exit status.
func statusOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(99)
}
