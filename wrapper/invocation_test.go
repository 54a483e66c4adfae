package wrapper

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tfauth/tfauth/authflow"
	"github.com/tfauth/tfauth/tfrun"
)

var update = flag.Bool("update", false, "rewrite the expected results of testdata/invocations")

// The invocation corpus: every file in testdata/invocations is one command
// line, mostly a bad one, run through Main. A case is a txtar archive whose
// comment section reads:
//
//	# what the case checks (any number of # lines)
//	terraform plan --identity nope      the command line: argv[0] first,
//	                                    split on spaces, 'single quotes' group
//	env TFAUTH_CONFIG=$WORK/tfauth.yaml an environment variable
//	mkdir $WORK/dir                     a directory
//	symlink $WORK/link -> $WORK/target  a symlink (the target may be missing)
//	chmod 000 $WORK/tfauth.yaml         a file mode
//	[exec]                              the case reaches terraform: run it in a
//	                                    child process (Main would exec in place)
//	[!root]                             skip the case when running as root
//	[validate]                          the configuration's problems read the
//	                                    same in `tfauth auth validate`
//
// Its files are written under $WORK (a fresh temporary directory); those
// under bin/ are made executable. The expected results are the files
// want.exit, want.stderr and (for [exec] cases) want.stdout; `go test
// -run TestInvocations -update` rewrites them. $WORK and $SELF (the test
// binary, which is "tfauth itself" to Main) stand for the real paths in
// the command line, the environment, the files and the results.
//
// Every other case must fail before the hand-off: the harness refuses to
// run a case in-process when a real terraform could be found, because Main
// would exec it and replace the test binary.
const invocationDir = "../testdata/invocations"

// helperArgsEnv carries argv to TestInvocationHelper, as a JSON list.
const helperArgsEnv = "TFAUTH_TEST_INVOCATION_ARGS"

// invocation is one parsed case.
type invocation struct {
	args      []string
	env       []string
	setup     [][]string
	exec      bool
	notAsRoot bool
	validate  bool
}

func TestInvocations(t *testing.T) {
	// Absolute paths: in-process cases run in their own directory.
	dir, err := filepath.Abs(invocationDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("found %d cases in %s; want at least 30", len(files), invocationDir)
	}
	self := selfPath()
	if self == "" {
		t.Fatal("cannot find the test binary's own path")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			// An in-process case changes the process's working directory
			// (see runInvocation), so only [exec] cases, each in a child
			// process of its own, run in parallel.
			if isExecCase(t, file) {
				t.Parallel()
			}
			runInvocation(t, file, self)
		})
	}
}

// isExecCase reports whether the case in file is marked [exec].
func isExecCase(t *testing.T, file string) bool {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if strings.TrimSpace(line) == "[exec]" {
			return true
		}
	}
	return false
}

func runInvocation(t *testing.T, file, self string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	expand := strings.NewReplacer("$WORK", work, "$SELF", self).Replace
	inv, err := parseInvocation(string(ar.Comment), expand)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if inv.notAsRoot && os.Geteuid() == 0 {
		t.Skip("file permissions do not stop root")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the corpus uses Unix paths, modes and exec")
	}

	// A minimal environment: no terraform on PATH, a private HOME and
	// TMPDIR, nothing from the host. XDG_CONFIG_HOME follows a HOME the
	// case sets, unless it sets XDG_CONFIG_HOME too.
	for _, d := range []string{"empty", "home", "tmp"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	caseEnv := envMap(inv.env)
	home := filepath.Join(work, "home")
	if h := caseEnv["HOME"]; h != "" {
		home = h
	}
	env := []string{
		"PATH=" + filepath.Join(work, "empty"),
		"HOME=" + home,
		"TMPDIR=" + filepath.Join(work, "tmp"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
	}
	env = tfrun.SetEnv(env, caseEnv)

	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "want.") {
			continue
		}
		p := filepath.Join(work, filepath.FromSlash(f.Name))
		mode := fs.FileMode(0o644)
		if strings.HasPrefix(f.Name, "bin/") {
			mode = 0o755
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(expand(string(f.Data))), mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range inv.setup {
		if err := applySetup(s); err != nil {
			t.Fatalf("%s: %v", strings.Join(s, " "), err)
		}
	}

	var code int
	var stdout, stderr bytes.Buffer
	if inv.exec {
		code = runChild(t, work, inv.args, env, &stdout, &stderr)
	} else {
		hermetic(t, work, env)
		refuseHandoff(t, env, self)
		code = runInProcess(t, inv.args, env, &stdout, &stderr)
	}

	unexpand := func(b []byte) string {
		s := string(b)
		s = strings.ReplaceAll(s, self, "$SELF")
		if real, err := filepath.EvalSymlinks(work); err == nil && real != work {
			s = strings.ReplaceAll(s, real, "$WORK")
		}
		return strings.ReplaceAll(s, work, "$WORK")
	}
	got := map[string]string{
		"want.exit":   strconv.Itoa(code) + "\n",
		"want.stderr": unexpand(stderr.Bytes()),
		"want.stdout": unexpand(stdout.Bytes()),
	}

	for _, out := range []string{stderr.String(), stdout.String()} {
		for _, bad := range []string{"goroutine ", "panic:", "runtime error", "[recovered]"} {
			if strings.Contains(out, bad) {
				t.Errorf("output has %q, a Go crash:\n%s", bad, out)
			}
		}
		if s := secretIn(out, env); s != "" {
			t.Errorf("output shows a secret-looking value %q:\n%s", s, out)
		}
	}
	if !inv.exec && stdout.Len() > 0 {
		t.Errorf("stdout = %q; want nothing on a failure (stdout belongs to terraform)", stdout.String())
	}
	if !inv.exec && code == 0 {
		t.Errorf("exit code 0; every in-process case must fail before the hand-off")
	}
	for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		checkErrorLine(t, line)
	}

	if inv.validate {
		checkSameAsValidate(t, env, stderr.String())
	}

	if *update {
		writeWant(t, file, ar, got)
		return
	}
	for _, name := range []string{"want.exit", "want.stderr", "want.stdout"} {
		want := ""
		for _, f := range ar.Files {
			if f.Name == name {
				want = string(f.Data)
			}
		}
		if name == "want.exit" && want == "" {
			t.Errorf("%s has no want.exit (run go test -run TestInvocations -update)", file)
			continue
		}
		if diff := cmp.Diff(want, got[name]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", strings.TrimPrefix(name, "want."), diff)
		}
	}
}

// parseInvocation reads a case's comment section.
func parseInvocation(comment string, expand func(string) string) (*invocation, error) {
	inv := &invocation{}
	sc := bufio.NewScanner(strings.NewReader(comment))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitWords(expand(line))
		if err != nil {
			return nil, err
		}
		switch {
		case inv.args == nil:
			if base := filepath.Base(words[0]); base != "terraform" && base != "tfauth" {
				return nil, fmt.Errorf("the command line must start with terraform or tfauth, not %q", words[0])
			}
			inv.args = words
		case line == "[exec]":
			inv.exec = true
		case line == "[!root]":
			inv.notAsRoot = true
		case line == "[validate]":
			inv.validate = true
		case words[0] == "env" && len(words) == 2 && strings.Contains(words[1], "="):
			inv.env = append(inv.env, words[1])
		case words[0] == "mkdir" && len(words) == 2,
			words[0] == "chmod" && len(words) == 3,
			words[0] == "symlink" && len(words) == 4 && words[2] == "->":
			inv.setup = append(inv.setup, words)
		default:
			return nil, fmt.Errorf("unknown line %q", line)
		}
	}
	if inv.args == nil {
		return nil, fmt.Errorf("no command line")
	}
	return inv, nil
}

// splitWords splits s on spaces. Single quotes group words; two of them
// with nothing between make an empty word.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func applySetup(s []string) error {
	switch s[0] {
	case "mkdir":
		return os.MkdirAll(s[1], 0o755)
	case "chmod":
		m, err := strconv.ParseUint(s[1], 8, 32)
		if err != nil {
			return err
		}
		return os.Chmod(s[2], fs.FileMode(m))
	case "symlink":
		if err := os.MkdirAll(filepath.Dir(s[1]), 0o755); err != nil {
			return err
		}
		return os.Symlink(s[3], s[1])
	}
	return fmt.Errorf("unknown setup %q", s[0])
}

// hermetic gives an in-process case what a child process would get: $WORK
// as the working directory, so that no tfauth.yaml or atmos.yaml above the
// checkout is discovered, and the case's HOME and XDG_CONFIG_HOME in the
// process environment too, for code that reads them from there (such as
// os.UserHomeDir for "~/" in terraform.path). Both are restored after the
// case.
func hermetic(t *testing.T, work string, env []string) {
	t.Helper()
	t.Chdir(work)
	m := envMap(env)
	t.Setenv("HOME", m["HOME"])
	t.Setenv("XDG_CONFIG_HOME", m["XDG_CONFIG_HOME"])
}

// refuseHandoff fails the test when Main could find a terraform to exec
// into, which would replace the test process.
func refuseHandoff(t *testing.T, env []string, self string) {
	t.Helper()
	m := envMap(env)
	opts := tfrun.FindOptions{Name: "terraform", Explicit: m["TFAUTH_TERRAFORM"], PathList: m["PATH"], Self: self}
	if p := m[authflow.ConfigEnv]; p != "" {
		if cfg, err := authflow.Load(p); err == nil && cfg.Terraform.Path != "" {
			opts.ConfigPath = cfg.Terraform.Path
		}
	}
	if p, err := tfrun.Find(opts); err == nil {
		t.Fatalf("in-process case could exec %s and replace the test binary; mark it [exec]", p)
	}
}

// runInProcess runs Main with the case's arguments and environment.
func runInProcess(t *testing.T, args, env []string, stdout, stderr *bytes.Buffer) (code int) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Main(%q) panicked: %v", args, r)
		}
	}()
	return Main(Process{Args: args, Env: env, Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Version: "test"})
}

// runChild runs the case in a child process, TestInvocationHelper, which
// calls Main with the real process behind it, so it can exec terraform.
func runChild(t *testing.T, dir string, args, env []string, stdout, stderr *bytes.Buffer) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInvocationHelper$")
	cmd.Dir = dir
	argv, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(slices.Clip(env), helperArgsEnv+"="+string(argv))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run the helper process: %v", err)
	}
	return 0
}

// TestInvocationHelper is the child process of [exec] cases, not a test.
func TestInvocationHelper(t *testing.T) {
	joined, ok := os.LookupEnv(helperArgsEnv)
	if !ok {
		t.Skip("the child process of TestInvocations")
	}
	var args []string
	if err := json.Unmarshal([]byte(joined), &args); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperArgsEnv+"=") {
			env = append(env, kv)
		}
	}
	os.Exit(Main(Process{
		Args: args, Env: env,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: "test",
	}))
}

// checkSameAsValidate checks that every problem the shim reported (its
// stderr) is reported word for word by `tfauth auth validate`.
func checkSameAsValidate(t *testing.T, env []string, shimErr string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runInProcess(t, []string{"tfauth", "auth", "validate"}, env, &stdout, &stderr)
	if code != 1 {
		t.Errorf("tfauth auth validate exit code %d; want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(shimErr, "\n"), "\n") {
		line = strings.TrimPrefix(line, "tfauth: error: ")
		if !strings.Contains(stderr.String(), line) {
			t.Errorf("tfauth auth validate does not report %q; it says:\n%s", line, stderr.String())
		}
	}
}

// Secret-looking strings: JWTs and AWS access key ids, as authflow redacts.
var (
	jwtRe   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	keyIDRe = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b`)
)

// secretIn returns a secret-looking string found in out: a JWT, an access
// key id, or the value of an environment variable named like a secret.
func secretIn(out string, env []string) string {
	if s := jwtRe.FindString(out); s != "" {
		return s
	}
	if s := keyIDRe.FindString(out); s != "" {
		return s
	}
	for k, v := range envMap(env) {
		u := strings.ToUpper(k)
		secret := strings.Contains(u, "SECRET") || strings.Contains(u, "TOKEN") || strings.Contains(u, "PASSWORD") || u == "AWS_ACCESS_KEY_ID"
		if secret && len(v) >= 6 && strings.Contains(out, v) {
			return v
		}
	}
	return ""
}

// checkErrorLine applies the error style to one line of stderr.
func checkErrorLine(t *testing.T, line string) {
	t.Helper()
	for _, bad := range []string{"error: error", "Error:", "*authflow.", "*wrapper.", "*tfrun.", "*fs.", "*os.", "%!"} {
		if strings.Contains(line, bad) {
			t.Errorf("stderr line has %q:\n%s", bad, line)
		}
	}
	for _, p := range prefixRe.FindAllString(line, -1) {
		if strings.Count(line, p) > 1 {
			t.Errorf("stderr line repeats %q:\n%s", p, line)
		}
	}
}

// prefixRe finds the prefixes of wrapped errors, as in `identity "x": `,
// which must not repeat within a line.
var prefixRe = regexp.MustCompile(`[a-zA-Z_.-]+ "[^"]*": `)

func writeWant(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	var files []txtar.File
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want.") {
			files = append(files, f)
		}
	}
	for _, name := range []string{"want.exit", "want.stderr", "want.stdout"} {
		if got[name] == "" && name != "want.exit" {
			continue
		}
		files = append(files, txtar.File{Name: name, Data: []byte(got[name])})
	}
	ar.Files = files
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}
