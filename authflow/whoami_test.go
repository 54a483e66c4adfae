package authflow_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tfauth/tfauth/authflow"
)

func TestPlanTargets(t *testing.T) {
	t.Parallel()
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, true),
		viaIdentity("s1", "hub", spokeARN("s1"), true),
		viaIdentity("s2", "hub", spokeARN("s2"), false),
	)
	g, err := authflow.PlanTargets(cfg, []string{"s2"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range g.Steps {
		keys = append(keys, s.Key)
	}
	// Only s2's chain: the required s1 is not planned.
	if diff := cmp.Diff([]string{"provider/gh", "identity/hub", "identity/s2"}, keys); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if g.Primary != "s2" || len(g.Targets) != 1 {
		t.Errorf("primary %q, targets %v", g.Primary, g.Targets)
	}
	g, err = authflow.PlanTargets(cfg, []string{"s1", "hub", "s1", "s2"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s1", "hub", "s2"}, g.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if _, err := authflow.PlanTargets(cfg, []string{"hub", "nope"}); !errors.Is(err, authflow.ErrUnknownIdentity) {
		t.Errorf("unknown target: %v; want ErrUnknownIdentity", err)
	}
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	e := startEmu(t, emuConfig("s1"))
	cfg := config(ghProvider(),
		viaProvider("hub", "gh", hubARN, true),
		viaIdentity("s1", "hub", spokeARN("s1"), true),
	)
	res, err := authflow.Run(t.Context(), plan(t, cfg, "hub"), opts(emuEnv(e)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]authflow.CallerIdentity{
		"hub": {Account: "111111111111", ARN: "arn:aws:sts::111111111111:assumed-role/hub/tfauth-hub"},
		"s1":  {Account: "222222222222", ARN: "arn:aws:sts::222222222222:assumed-role/s1/tfauth-s1"},
	} {
		got, err := authflow.WhoAmI(t.Context(), res.Profiles[name], opts(emuEnv(e)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Account != want.Account || got.ARN != want.ARN {
			t.Errorf("%s: got %+v; want %+v", name, got, want)
		}
	}
	// Signed with each identity's own credentials: STS saw the sessions as callers.
	callers := map[string]bool{}
	for _, c := range e.Calls() {
		if c.Action == "GetCallerIdentity" {
			callers[c.CallerARN] = true
		}
	}
	if len(callers) != 2 {
		t.Errorf("GetCallerIdentity callers %v; want the two sessions", callers)
	}

	// Credentials STS no longer accepts: an error without the secret.
	c := *res.Profiles["hub"]
	if !e.ExpireSession(c.AccessKeyID.Reveal()) {
		t.Fatal("could not expire the session")
	}
	_, err = authflow.WhoAmI(t.Context(), &c, opts(emuEnv(e)))
	if err == nil || !strings.HasPrefix(err.Error(), "get caller identity: ") {
		t.Fatalf("expired session: %v", err)
	}
	for _, s := range e.Secrets() {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error text holds an issued secret: %s", err)
		}
	}
	if _, err := authflow.WhoAmI(t.Context(), &authflow.Credentials{}, opts(emuEnv(e))); err == nil {
		t.Error("empty credentials: no error")
	}
}

func TestKeptDirs(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	d1, err := authflow.NewKeptDir(base)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := authflow.NewKeptDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if d1 == d2 || filepath.Dir(d1) != filepath.Join(base, authflow.KeptDirName) {
		t.Fatalf("dirs %s, %s", d1, d2)
	}
	if runtime.GOOS != "windows" {
		for _, d := range []string{d1, filepath.Dir(d1)} {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v %v; want mode 0700", d, fi.Mode(), err)
			}
		}
	}
	// A run's Sweep never removes them, however old.
	if err := authflow.Sweep(base); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d1); err != nil {
		t.Fatalf("swept: %v", err)
	}
	removed, err := authflow.RemoveKeptDirs(base)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{d1, d2}
	if d2 < d1 {
		want = []string{d2, d1}
	}
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(base, authflow.KeptDirName)); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", authflow.KeptDirName, err)
	}
	if removed, err := authflow.RemoveKeptDirs(base); err != nil || removed != nil {
		t.Errorf("nothing to remove: %v, %v", removed, err)
	}
}

func TestKeptDirRefusesSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	t.Parallel()
	base, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(base, authflow.KeptDirName)); err != nil {
		t.Fatal(err)
	}
	if _, err := authflow.NewKeptDir(base); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("NewKeptDir through a symlink: %v", err)
	}
	if _, err := authflow.RemoveKeptDirs(base); err == nil {
		t.Error("RemoveKeptDirs through a symlink: no error")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("wrote through the symlink: %v", entries)
	}
}
