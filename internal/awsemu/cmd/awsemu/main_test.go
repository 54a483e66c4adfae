package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfauth/tfauth/internal/awsemu"
)

const config = `
users:
  - arn: arn:aws:iam::999999999999:user/ci
    access_key_id: AKIAEMULATORCIUSER01
    secret_access_key: emulatorCiSecretKeyNotARealSecret0000000
buckets:
  - name: state
    objects: {"a/b.tfstate": "{}"}
`

func TestServeAndReport(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "emulator.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile, s3Log := filepath.Join(dir, "env"), filepath.Join(dir, "s3.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	ready := make(chan *awsemu.Emulator, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-config", cfgPath, "-env-file", envFile, "-s3-log", s3Log}, &bytes.Buffer{}, &stderr,
			func(e *awsemu.Emulator) { ready <- e })
	}()
	var e *awsemu.Emulator
	select {
	case e = <-ready:
	case err := <-done:
		t.Fatalf("run: %v; stderr: %s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not start")
	}

	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("env file mode %v; want 0600", fi.Mode().Perm())
	}
	for _, want := range []string{"export AWS_ENDPOINT_URL_S3='" + e.S3URL() + "'\n", "export GITHUB_ACTIONS='true'\n",
		"export ACTIONS_ID_TOKEN_REQUEST_TOKEN='" + e.OIDCRequestToken() + "'\n"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("env file lacks %q:\n%s", want, env)
		}
	}
	if !strings.Contains(stderr.String(), "sts="+e.STSURL()) {
		t.Errorf("stderr %q lacks the STS URL", stderr.String())
	}

	c := s3.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEMULATORCIUSER01", "emulatorCiSecretKeyNotARealSecret0000000", "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(e.S3URL()); o.UsePathStyle = true })
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("state"), Key: aws.String("a/b.tfstate")}); err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"report", "-s3-log", s3Log}, &out, &stderr, nil); err != nil {
		t.Fatalf("report: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("report has %d lines; want header + 1:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"GET", "state/a/b.tfstate", "GetObject", "200", "arn:aws:iam::999999999999:user/ci"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("report line %q lacks %q", lines[1], want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"report"}, {"-config", "/nonexistent.yaml"}, {"report", "-s3-log", "/nonexistent"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}, nil); err == nil {
			t.Errorf("run(%q) succeeded; want an error", args)
		}
	}
}
