package wrapper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tfauth/tfauth/internal/awsemu"
)

// The options: block reaches the pipeline: these tests run `tfauth auth
// whoami --all` through Main against an in-process emulator and watch
// what options.concurrency and options.timeout do to the STS traffic.

const emuRepoGlob = "repo:example/infra:*"

func emuSpokeARN(name string) string { return "arn:aws:iam::222222222222:role/" + name }

// startOptionsEmu starts an emulator whose roles, one per spoke, trust the
// GitHub OIDC tokens it issues.
func startOptionsEmu(t *testing.T, spokes []string) *awsemu.Emulator {
	t.Helper()
	var cfg awsemu.Config
	for _, s := range spokes {
		cfg.Roles = append(cfg.Roles, awsemu.Role{ARN: emuSpokeARN(s), TrustOIDCSubjects: []string{emuRepoGlob}})
	}
	e, err := awsemu.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// spokesConfig is a tfauth.yaml with one github/oidc provider, the spokes
// behind it (the first the default) and the options block given.
func spokesConfig(spokes []string, options string) string {
	var b strings.Builder
	b.WriteString("auth:\n  providers:\n    gh:\n      kind: github/oidc\n      region: us-east-1\n  identities:\n")
	for i, s := range spokes {
		fmt.Fprintf(&b, "    %s:\n      kind: aws/assume-role\n      default: %t\n      required: true\n", s, i == 0)
		fmt.Fprintf(&b, "      via: {provider: gh}\n      principal: {assume_role: %q}\n", emuSpokeARN(s))
	}
	b.WriteString("options: " + options + "\n")
	return b.String()
}

// whoamiAll runs `tfauth --config CONFIG auth whoami --all -o json` in
// the emulator's environment, with a private HOME and TMPDIR.
func whoamiAll(t *testing.T, e *awsemu.Emulator, config string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	tmp := t.TempDir()
	env := []string{"HOME=" + tmp, "TMPDIR=" + tmp, "PATH=" + tmp}
	for k, v := range e.Env() {
		env = append(env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	start := time.Now()
	code = Main(Process{
		Args:   []string{"tfauth", "--config", writeConfig(t, config), "auth", "whoami", "--all", "-o", "json"},
		Env:    env,
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errOut,
	})
	return code, out.String(), errOut.String(), time.Since(start)
}

// TestOptionsConcurrency: with options.concurrency 2, ten spokes behind
// one provider never have more than 2 STS requests in flight, though
// enough are ready to fill the default of 8.
func TestOptionsConcurrency(t *testing.T) {
	t.Parallel()
	var spokes []string
	for i := range 10 {
		spokes = append(spokes, fmt.Sprintf("s%02d", i))
	}
	e := startOptionsEmu(t, spokes)
	// Long enough for every waiting step to start its request meanwhile,
	// however loaded the machine: the count, not the time, is checked.
	e.SetLatency(300 * time.Millisecond)
	code, stdout, stderr, took := whoamiAll(t, e, spokesConfig(spokes, "{concurrency: 2}"))
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var got whoamiOutput
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not whoami's JSON: %v\n%s", err, stdout)
	}
	ok := 0
	for _, id := range got.Identities {
		if id.OK {
			ok++
		}
	}
	if ok != len(spokes) {
		t.Errorf("%d of %d identities authenticated:\n%s", ok, len(spokes), stdout)
	}
	// Both the pipeline (AssumeRoleWithWebIdentity) and whoami's
	// GetCallerIdentity calls are bounded by options.concurrency.
	if n := e.MaxInFlight(); n != 2 {
		t.Errorf("%d STS requests in flight at most; want exactly 2 (options.concurrency)", n)
	}
	t.Logf("%d spokes with concurrency 2 in %v", len(spokes), took)
}

// TestOptionsTimeout: options.timeout 1s ends an authentication that the
// emulator's 5s latency would hold for 10s, with a deadline message.
func TestOptionsTimeout(t *testing.T) {
	t.Parallel()
	spokes := []string{"solo"}
	e := startOptionsEmu(t, spokes)
	e.SetLatency(5 * time.Second)
	code, stdout, stderr, took := whoamiAll(t, e, spokesConfig(spokes, "{timeout: 1s}"))
	if code != 1 {
		t.Errorf("exit %d; want 1", code)
	}
	if took > 3*time.Second {
		t.Errorf("whoami took %v; want it to fail at about the 1s options.timeout", took)
	}
	if !strings.Contains(stderr+stdout, "deadline") || !strings.Contains(stderr+stdout, "raise options.timeout") {
		t.Errorf("no deadline message naming options.timeout:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}
