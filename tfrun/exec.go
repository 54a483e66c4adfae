package tfrun

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Environment variables tfauth sets on a hand-off so that a chain of shims
// ends at once instead of looping.
const (
	// EnvHandoffPID holds the PID that a tfauth replaced with the program it
	// believed to be terraform. A tfauth that finds its own PID there was
	// exec'd directly by another tfauth: it is a second shim, not terraform.
	EnvHandoffPID = "TFAUTH_HANDOFF_PID"
	// EnvSkip lists (os.PathListSeparator-joined) the shims passed so far in
	// the current hand-off chain.
	EnvSkip = "TFAUTH_SKIP"
	// EnvDepth counts nested tfauth invocations; past MaxDepth tfauth stops,
	// a backstop against loops through other tools' child processes.
	EnvDepth = "TFAUTH_DEPTH"
)

// MaxDepth bounds nested tfauth invocations (terraform → local-exec →
// terraform ...). Legitimate nesting stays far below it.
const MaxDepth = 16

// Handoff describes the process tfauth turns into.
type Handoff struct {
	// Path is the real terraform (or a next shim) to run.
	Path string
	// Argv0 is argv[0] for it, normally the name tfauth was invoked as.
	Argv0 string
	// Args are the arguments after argv[0].
	Args []string
	// Env is the complete environment, "KEY=value" entries.
	Env []string
	// Cleanup, when set, is a private directory removed once the program
	// has exited, whatever way it exits.
	Cleanup *Cleanup
}

// Cleanup is a directory to remove after terraform exits, with the open
// lock file that marks it in use (see authflow.NewSessionDir).
type Cleanup struct {
	Dir  string
	Lock *os.File
}

// ChainState is what a tfauth learns from its environment about the shims
// that ran before it in this process chain.
type ChainState struct {
	// DirectHandoff is true when another tfauth exec'd into this very
	// process, believing it to be terraform.
	DirectHandoff bool
	// Skip lists shims already passed in the chain.
	Skip []string
	// Depth is the number of tfauth invocations above this one.
	Depth int
}

// ReadChain reads the hand-off markers from the environment. On Unix a
// tfauth that handed off was replaced by this process, so it had this PID;
// on Windows it started this process, so it is the parent.
func ReadChain(getenv func(string) string) ChainState {
	var cs ChainState
	handedOffBy := os.Getpid()
	if runtime.GOOS == "windows" {
		handedOffBy = os.Getppid()
	}
	cs.DirectHandoff = getenv(EnvHandoffPID) == strconv.Itoa(handedOffBy)
	if cs.DirectHandoff {
		for _, p := range strings.Split(getenv(EnvSkip), string(os.PathListSeparator)) {
			if p != "" {
				cs.Skip = append(cs.Skip, p)
			}
		}
	}
	cs.Depth, _ = strconv.Atoi(getenv(EnvDepth))
	cs.Depth = max(cs.Depth, 0)
	return cs
}

// MarkEnv returns env with the hand-off markers for a process that will
// replace (or be started by) this one, whose executable is self.
func MarkEnv(env []string, cs ChainState, self string, pid int) []string {
	skip := append(append([]string(nil), cs.Skip...), self)
	return SetEnv(env, map[string]string{
		EnvHandoffPID: strconv.Itoa(pid),
		EnvSkip:       strings.Join(skip, string(os.PathListSeparator)),
		EnvDepth:      strconv.Itoa(cs.Depth + 1),
	})
}

// SetEnv returns env with the given keys set (replacing earlier values, so
// there is exactly one entry per key); the new entries come last, sorted.
func SetEnv(env []string, set map[string]string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}
