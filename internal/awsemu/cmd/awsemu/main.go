// Command awsemu runs the local AWS emulator (STS, GitHub-style OIDC issuer
// and S3) until interrupted, for demos and manual testing.
//
// Usage:
//
//	awsemu -config FILE [-env-file PATH] [-s3-log PATH] [-ca-file PATH] [-v]
//	awsemu report -s3-log PATH
//
// The first form starts the emulator, writes its environment as
// "export KEY='value'" lines to -env-file, appends every S3 request as a
// JSON line to -s3-log and prints one line with the URLs on stderr. It runs
// until SIGINT or SIGTERM. The second form prints a table of an S3 log:
// method, bucket/key, operation, status and the principal that signed it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/tfauth/tfauth/internal/awsemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "awsemu: %v\n", err)
		os.Exit(1)
	}
}

// run executes the command line args. ready, if not nil, receives the
// emulator once it serves.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*awsemu.Emulator)) error {
	if len(args) > 0 && args[0] == "report" {
		return report(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("awsemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "emulator config `file` (YAML)")
	envFile := fs.String("env-file", "", "write the environment as export lines to `path`")
	s3Log := fs.String("s3-log", "", "append each S3 request as a JSON line to `path`")
	caFile := fs.String("ca-file", "", "write the S3 TLS certificate (config s3_tls) to `path`")
	verbose := fs.Bool("v", false, "log requests to stderr (never secrets)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: awsemu -config FILE [-env-file PATH] [-s3-log PATH] | awsemu report -s3-log PATH")
	}
	cfg, err := awsemu.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e, err := awsemu.Start(cfg)
	if err != nil {
		return err
	}
	defer e.Close()

	if *s3Log != "" {
		f, err := os.OpenFile(*s3Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("open s3 log: %w", err)
		}
		defer f.Close()
		var mu sync.Mutex
		enc := json.NewEncoder(f)
		e.OnS3Request(func(r awsemu.S3Request) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(r)
		})
		defer e.OnS3Request(nil)
	}
	if *caFile != "" {
		pem := e.S3CACertPEM()
		if pem == nil {
			return errors.New("-ca-file needs s3_tls: true in the config")
		}
		if err := os.WriteFile(*caFile, pem, 0o644); err != nil {
			return fmt.Errorf("write ca file: %w", err)
		}
	}
	if *envFile != "" {
		if err := writeEnvFile(*envFile, e.Env()); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "awsemu: sts=%s s3=%s oidc=%s\n", e.STSURL(), e.S3URL(), e.OIDCURL())
	if ready != nil {
		ready(e)
	}
	<-ctx.Done()
	return nil
}

// writeEnvFile writes env as sorted shell export lines, mode 0600 (it holds
// the OIDC request token).
func writeEnvFile(path string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(env[k], "'", `'\''`))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}

func report(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("awsemu report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	s3Log := fs.String("s3-log", "", "S3 request log `path` written by awsemu -s3-log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *s3Log == "" {
		return errors.New("usage: awsemu report -s3-log PATH")
	}
	f, err := os.Open(*s3Log)
	if err != nil {
		return fmt.Errorf("open s3 log: %w", err)
	}
	defer f.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tOBJECT\tOPERATION\tSTATUS\tSIGNED BY")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r awsemu.S3Request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s:%d: %w", *s3Log, line, err)
		}
		obj := r.Bucket
		if r.Key != "" {
			obj += "/" + r.Key
		}
		if obj == "" {
			obj = "/"
		}
		who := r.PrincipalARN
		if who == "" {
			who = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Method, obj, r.Operation, r.Status, who)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read s3 log: %w", err)
	}
	return tw.Flush()
}
