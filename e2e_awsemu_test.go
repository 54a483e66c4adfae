//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/tfauth/tfauth/internal/awsemu"
)

// emuKey finds a script's emulator among its testscript values.
type emuKey struct{}

// emuHolder carries one script's emulator between commands.
type emuHolder struct{ e *awsemu.Emulator }

func emulator(ts *testscript.TestScript) *awsemu.Emulator {
	h := ts.Value(emuKey{}).(*emuHolder)
	if h.e == nil {
		ts.Fatalf("awsemu: not started; use `awsemu start CONFIG` first")
	}
	return h.e
}

// cmdAWSEmu drives the local AWS emulator from a script:
//
//	awsemu start CONFIG     start it; its endpoints and GitHub Actions OIDC variables go into the script's env
//	awsemu deny ROLE-ARN    make STS deny that role from now on
//	awsemu latency DURATION add latency to every STS and OIDC request
//	awsemu s3log            print the S3 requests: METHOD BUCKET/KEY OPERATION PRINCIPAL
//	awsemu calls            print the STS calls: ACTION ROLE CALLER ERROR
//	awsemu mint-token VAR [AUD [SUB]]  put a token minted by the issuer (audience AUD, default
//	                        sts.amazonaws.com; subject SUB, default the configured one) into $VAR
//	awsemu nosecrets        fail if an issued secret appears in the last stdout/stderr or any file under $WORK
func cmdAWSEmu(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: awsemu start|deny|latency|s3log|calls|mint-token|nosecrets ...")
	}
	switch args[0] {
	case "start":
		if len(args) != 2 {
			ts.Fatalf("usage: awsemu start CONFIG")
		}
		cfg, err := awsemu.LoadConfig(ts.MkAbs(args[1]))
		ts.Check(err)
		e, err := awsemu.Start(cfg)
		ts.Check(err)
		ts.Value(emuKey{}).(*emuHolder).e = e
		ts.Defer(e.Close)
		for k, v := range e.Env() {
			ts.Setenv(k, v)
		}
	case "deny":
		emulator(ts).DenyRole(args[1])
	case "latency":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		emulator(ts).SetLatency(d)
	case "s3log":
		for _, r := range emulator(ts).S3Requests() {
			fmt.Fprintf(ts.Stdout(), "%s %s/%s %s %s %d\n", r.Method, r.Bucket, r.Key, r.Operation, r.PrincipalARN, r.Status)
		}
	case "calls":
		for _, c := range emulator(ts).Calls() {
			fmt.Fprintf(ts.Stdout(), "%s %s %s %s\n", c.Action, orDash(c.RoleARN), orDash(c.CallerARN), orDash(c.ErrorCode))
		}
	case "mint-token":
		if len(args) < 2 || len(args) > 4 {
			ts.Fatalf("usage: awsemu mint-token VAR [AUD [SUB]]")
		}
		aud, sub := awsemu.DefaultOIDCAudience, ""
		if len(args) > 2 {
			aud = args[2]
		}
		if len(args) > 3 {
			sub = args[3]
		}
		tok, err := emulator(ts).MintToken(aud, sub)
		ts.Check(err)
		ts.Setenv(args[1], tok)
	case "nosecrets":
		noSecrets(ts, emulator(ts).Secrets())
	default:
		ts.Fatalf("awsemu: unknown subcommand %q", args[0])
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// noSecrets fails when any secret appears in the last command's output or in
// any file left under $WORK (the credential directories are expected gone).
func noSecrets(ts *testscript.TestScript, secrets []string) {
	if len(secrets) == 0 {
		ts.Fatalf("awsemu nosecrets: the emulator issued no secrets, so the check would prove nothing")
	}
	check := func(where, text string) {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				ts.Fatalf("an issued secret (%d chars) appears in %s", len(s), where)
			}
		}
	}
	check("stdout", ts.ReadFile("stdout"))
	check("stderr", ts.ReadFile("stderr"))
	var files []string
	_ = filepath.WalkDir(ts.Getenv("WORK"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+".terraform"+string(filepath.Separator)+"providers") {
			return nil
		}
		files = append(files, p)
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && len(b) < 64<<20 {
			check(f, string(b))
		}
	}
}
