package wrapper

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestShimInstall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	t.Parallel()
	self := selfPath()
	dir := filepath.Join(t.TempDir(), "bin") // created by install
	env := []string{"PATH=" + dir + ":/usr/bin:/bin"}

	code, stdout, stderr := runTfauth(t, env, "shim", "install", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	link := filepath.Join(dir, "terraform")
	if got, err := os.Readlink(link); err != nil || got != self {
		t.Fatalf("%s -> %q (%v); want a symlink to %s", link, got, err, self)
	}
	if !strings.HasPrefix(stdout, "installed "+link+" -> "+self+"\n") {
		t.Errorf("stdout %q", stdout)
	}
	if strings.Contains(stderr, "not on PATH") || strings.Contains(stderr, "comes before") {
		t.Errorf("unexpected PATH warning: %s", stderr)
	}

	// Again: nothing to do.
	code, stdout, _ = runTfauth(t, env, "shim", "install", "--dir", dir)
	if code != 0 || !strings.HasPrefix(stdout, "already installed "+link) {
		t.Errorf("second install: exit %d, stdout %q", code, stdout)
	}
}

// TestShimInstallDefaultDir: without --dir the shim goes to ~/.local/bin,
// home being the HOME of tfauth's environment (created when missing), and
// without a HOME the install asks for --dir.
func TestShimInstallDefaultDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks; the home directory is USERPROFILE")
	}
	t.Parallel()
	self := selfPath()
	home := t.TempDir()
	bin := filepath.Join(home, ".local", "bin")
	code, stdout, stderr := runTfauth(t, []string{"HOME=" + home, "PATH=" + bin + ":/usr/bin:/bin"}, "shim", "install")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	link := filepath.Join(bin, "terraform")
	if got, err := os.Readlink(link); err != nil || got != self {
		t.Fatalf("%s -> %q (%v); want a symlink to %s", link, got, err, self)
	}
	if !strings.HasPrefix(stdout, "installed "+link+" -> "+self+"\n") {
		t.Errorf("stdout %q; want it to name %s", stdout, link)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 1 || entries[0].Name() != ".local" {
		t.Errorf("home holds %v; want only .local", entries)
	}

	code, stdout, stderr = runTfauth(t, []string{"HOME="}, "shim", "install")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no home directory to install into: pass --dir DIR") {
		t.Errorf("without HOME: exit %d, stdout %q, stderr %q; want a failure asking for --dir", code, stdout, stderr)
	}
}

func TestShimInstallRefusesOtherFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	t.Parallel()
	dir := t.TempDir()
	dst := filepath.Join(dir, "terraform")
	const script = "#!/bin/sh\necho the real one\n"
	if err := os.WriteFile(dst, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir}
	code, stdout, stderr := runTfauth(t, env, "shim", "install", "--dir", dir)
	if code != 1 || stdout != "" || !strings.Contains(stderr, dst+" exists and is not tfauth (a file)") || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a refusal suggesting --force", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(dst); string(b) != script {
		t.Fatalf("the existing file was changed: %q", b)
	}

	code, stdout, stderr = runTfauth(t, env, "shim", "install", "--dir", dir, "--force")
	if code != 0 || !strings.HasPrefix(stdout, "replaced "+dst) {
		t.Fatalf("--force: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got, _ := os.Readlink(dst); got != selfPath() {
		t.Errorf("after --force %s -> %q; want %s", dst, got, selfPath())
	}
}

func TestShimInstallReplacesOtherTfauth(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	t.Parallel()
	// A copy of this binary stands for another tfauth build: same main
	// module in its build information.
	other := filepath.Join(t.TempDir(), "tfauth-old")
	if err := copyFile(selfPath(), other); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "terraform")
	if err := os.Symlink(other, dst); err != nil {
		t.Fatal(err)
	}
	res, err := installShim(shimInstall{Dir: dir, Target: selfPath()})
	if err != nil || res.action != "updated" {
		t.Fatalf("got %+v, %v; want updated", res, err)
	}
	if got, _ := os.Readlink(dst); got != selfPath() {
		t.Errorf("%s -> %q; want %s", dst, got, selfPath())
	}
	// A dangling symlink is not provably tfauth.
	if err := os.Remove(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), dst); err != nil {
		t.Fatal(err)
	}
	if _, err := installShim(shimInstall{Dir: dir, Target: selfPath()}); err == nil || !strings.Contains(err.Error(), "dangling symlink") {
		t.Errorf("dangling symlink: %v", err)
	}
	// A directory is never replaced.
	if err := os.Remove(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := installShim(shimInstall{Dir: dir, Target: selfPath(), Force: true}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestShimInstallCopy(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "tfauth")
	if err := os.WriteFile(src, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := installShim(shimInstall{Dir: dir, Target: src, Copy: true})
	if err != nil || !res.copied {
		t.Fatalf("got %+v, %v", res, err)
	}
	fi, err := os.Lstat(res.path)
	if err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("%s: %v, %v; want an executable regular file", res.path, fi, err)
	}
	if b, _ := os.ReadFile(res.path); string(b) != "binary" {
		t.Errorf("copy holds %q", b)
	}
}

func TestShimPathWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX PATH")
	}
	t.Parallel()
	self := selfPath()
	shimDir, earlier, later := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{earlier, later} {
		if err := os.WriteFile(filepath.Join(d, "terraform"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Another tfauth shim earlier on PATH is not a problem.
	tfauthDir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(tfauthDir, "terraform")); err != nil {
		t.Fatal(err)
	}

	got := shimPathWarnings(shimDir, strings.Join([]string{tfauthDir, earlier, shimDir, later}, ":"), self)
	if len(got) != 1 || !strings.Contains(got[0], filepath.Join(earlier, "terraform")+" comes before "+shimDir) {
		t.Errorf("warnings %q; want one naming %s/terraform", got, earlier)
	}
	if got := shimPathWarnings(shimDir, strings.Join([]string{shimDir, earlier}, ":"), self); len(got) != 0 {
		t.Errorf("shim first on PATH: warnings %q; want none", got)
	}
	got = shimPathWarnings(shimDir, later, self)
	if len(got) != 1 || !strings.Contains(got[0], shimDir+" is not on PATH") {
		t.Errorf("warnings %q; want one saying %s is not on PATH", got, shimDir)
	}

	// Through the command: the warning reaches stderr, the install happens.
	code, _, stderr := runTfauth(t, []string{"PATH=" + earlier + ":" + shimDir}, "shim", "install", "--dir", shimDir)
	if code != 0 || !strings.Contains(stderr, "tfauth: warning: "+filepath.Join(earlier, "terraform")+" comes before") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
