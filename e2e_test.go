//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The end-to-end tests run the built tfauth binary, installed as
// `terraform` first on PATH, in front of a real terraform (1.5.7 and 1.8.5,
// installed by `make test` into $TFAUTH_TEST_TERRAFORM_DIR/<version>/) or a
// fake one written by the script. With CI=true a missing real terraform
// fails the run instead of skipping.

// repoRoot is the repository root: `go test` runs this package there.
var repoRoot, _ = os.Getwd()

// realVersions are the real terraform versions the suite runs against.
var realVersions = []string{"1.5.7", "1.8.5"}

func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"ptydrive": ptydrive,
		"sigdrive": sigdrive,
	})
}

// cleanupM runs the tests, then removes the built binary's directory.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	tfauthBuild.remove()
	return code
}

// binaryBuild builds tfauth once per test process, on first use.
type binaryBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// tfauthBuild is the test process's build of tfauth.
var tfauthBuild binaryBuild

func (b *binaryBuild) get() (string, error) {
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "e2e-tfauth-bin"); b.err != nil {
			return
		}
		out := filepath.Join(b.dir, "tfauth")
		cmd := exec.Command("go", "build", "-o", out, ".")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			b.err = fmt.Errorf("go build: %w", err)
			return
		}
		b.path = out
	})
	return b.path, b.err
}

// remove deletes the build, once every test is done.
func (b *binaryBuild) remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

func tfauthBinary(t *testing.T) string {
	t.Helper()
	p, err := tfauthBuild.get()
	if err != nil {
		t.Fatalf("building tfauth: %v", err)
	}
	return p
}

// realTerraform returns the real terraform of version v, or skips (fails
// under CI) when it is missing.
func realTerraform(t *testing.T, v string) string {
	t.Helper()
	dir := os.Getenv("TFAUTH_TEST_TERRAFORM_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "tfauth", "terraform")
	}
	p := filepath.Join(dir, v, "terraform")
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("real terraform %s not found at %s (run `make test`, which installs it)", v, p)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// helperDir is where testscript.Main put ptydrive and sigdrive.
func helperDir(t *testing.T) string {
	p, err := exec.LookPath("ptydrive")
	if err != nil {
		t.Fatalf("helper programs not on PATH: %v", err)
	}
	return filepath.Dir(p)
}

// setup installs tfauth as `terraform` (a symlink, as `tfauth shim install`
// does) in $WORK/.shim, and builds PATH: shim, then realDir (may be ""),
// then the helpers and the system directories.
func setup(t *testing.T, realTF string) func(*testscript.Env) error {
	bin := tfauthBinary(t)
	helpers := helperDir(t)
	return func(e *testscript.Env) error {
		shim := filepath.Join(e.WorkDir, ".shim")
		if err := os.MkdirAll(shim, 0o755); err != nil {
			return err
		}
		for _, name := range []string{"terraform", "tfauth"} {
			if err := os.Symlink(bin, filepath.Join(shim, name)); err != nil {
				return err
			}
		}
		path := []string{shim}
		if realTF != "" {
			path = append(path, filepath.Dir(realTF))
			e.Setenv("REALTF", realTF)
		}
		// Not /usr/local/bin: a machine may have a terraform there, which a
		// fresh CI machine does not.
		path = append(path, helpers, "/usr/bin", "/bin")
		e.Setenv("PATH", strings.Join(path, string(os.PathListSeparator)))
		e.Setenv("TFAUTH_BIN", bin)
		e.Setenv("REPO", repoRoot)
		e.Setenv("SHIMDIR", shim)
		e.Setenv("TF_CLI_CONFIG_FILE", "/dev/null")
		e.Setenv("CHECKPOINT_DISABLE", "1")
		e.Setenv("HOME", filepath.Join(e.WorkDir, ".home"))
		e.Values[emuKey{}] = &emuHolder{}
		return os.MkdirAll(filepath.Join(e.WorkDir, ".home"), 0o755)
	}
}

func commands() map[string]func(*testscript.TestScript, bool, []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"exitcode":  cmdExitcode,
		"nosession": cmdNoSession,
		"awsemu":    cmdAWSEmu,
		"gha":       cmdGHA,
		"gitlab":    cmdGitLab,
		"atlantis":  cmdAtlantis,
	}
}

// cmdExitcode runs a program and checks its exit status: `exitcode N prog
// args...`. A program killed by signal S counts as 128+S, as a shell reports.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			got = 128 + int(ws.Signal())
		}
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d; want %d", got, want)
	}
}

// cmdNoSession asserts that no tfauth credential directory is left in DIR
// (default $TMPDIR). The detached cleaner removes it moments after
// terraform exits, so this waits up to 3 seconds for it to go.
func cmdNoSession(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.Getenv("TMPDIR")
	if len(args) > 0 {
		dir = ts.MkAbs(args[0])
	}
	var left []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left, _ = filepath.Glob(filepath.Join(dir, "tfauth-*"))
		if neg || len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if neg && len(left) == 0 {
		ts.Fatalf("no tfauth credential directory in %s", dir)
	}
	if !neg && len(left) > 0 {
		ts.Fatalf("credential directories left behind: %v", left)
	}
}

func TestScriptsFake(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the scripts use POSIX shell fakes")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script/fake",
		Setup:               setup(t, ""),
		Cmds:                commands(),
		RequireExplicitExec: true,
	})
}

// awsPluginDir returns a local plugin directory holding hashicorp/aws, for
// `terraform init -plugin-dir=`, or "" when this machine has none. The
// registry is unreachable here, so the alias tests depend on it.
func awsPluginDir() string {
	for _, d := range []string{os.Getenv("TFAUTH_TEST_PLUGIN_DIR"), "/opt/tf-plugins", "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"} {
		if d == "" {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(d, "registry.terraform.io", "hashicorp", "aws", "*", "*", "terraform-provider-aws*")); len(m) > 0 {
			return d
		}
	}
	return ""
}

// condition answers the scripts' conditions for terraform version v:
// [awsprovider] (a local plugin directory has hashicorp/aws) and [tf15]
// (terraform 1.5, whose S3 backend uses the older AWS SDK).
func condition(v string) func(string) (bool, error) {
	return func(cond string) (bool, error) {
		switch cond {
		case "awsprovider":
			return awsPluginDir() != "", nil
		case "tf15":
			return strings.HasPrefix(v, "1.5."), nil
		}
		return false, fmt.Errorf("unknown condition %q", cond)
	}
}

func TestScriptsRealTerraform(t *testing.T) {
	if awsPluginDir() == "" {
		// Said on stderr so that it shows in a non-verbose run too.
		fmt.Fprintln(os.Stderr, "NOTE: hashicorp/aws is not in a local plugin directory (TFAUTH_TEST_PLUGIN_DIR, /opt/tf-plugins, ...): the provider-alias tests (testdata/script/tf/aliases.txtar) are skipped on this machine")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the scripts use POSIX tools")
	}
	for _, v := range realVersions {
		t.Run("terraform"+v, func(t *testing.T) {
			tf := realTerraform(t, v)
			testscript.Run(t, testscript.Params{
				Dir:       "testdata/script/tf",
				Condition: condition(v),
				Setup: func(e *testscript.Env) error {
					e.Setenv("TFVER", v)
					e.Setenv("AWS_PLUGIN_DIR", awsPluginDir())
					return setup(t, tf)(e)
				},
				Cmds:                commands(),
				RequireExplicitExec: true,
			})
		})
	}
}
