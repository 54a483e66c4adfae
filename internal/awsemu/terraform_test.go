package awsemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfauth/tfauth/internal/awsemu"
)

// terraformBinary returns the cached terraform of version, skipping the
// test when it is absent (failing under CI=true).
func terraformBinary(t *testing.T, version string) string {
	t.Helper()
	dir := os.Getenv("TFAUTH_TEST_TERRAFORM_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("no TFAUTH_TEST_TERRAFORM_DIR and no home directory: %v", err)
		}
		dir = filepath.Join(home, ".cache", "tfauth", "terraform")
	}
	bin := filepath.Join(dir, version, "terraform")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("terraform %s not found at %s (CI=true requires it): %v", version, bin, err)
		}
		t.Skipf("terraform %s not found at %s; set TFAUTH_TEST_TERRAFORM_DIR to the directory holding <version>/terraform", version, bin)
	}
	return bin
}

// backendBlock is the s3 backend configuration for each terraform
// generation: 1.5 (aws-sdk-go v1) and 1.6+ (aws-sdk-go-v2).
func backendBlock(version string, e *awsemu.Emulator, credFile string) string {
	common := fmt.Sprintf(`
    bucket                      = "tfstate"
    key                         = "demo/terraform.tfstate"
    region                      = "us-east-1"
    profile                     = "emu"
    skip_credentials_validation = false
    skip_region_validation      = true
    skip_metadata_api_check     = true`)
	if strings.HasPrefix(version, "1.5.") {
		return common + fmt.Sprintf(`
    shared_credentials_file = %q
    endpoint                = %q
    sts_endpoint            = %q
    force_path_style        = true
`, credFile, e.S3URL(), e.STSURL())
	}
	return common + fmt.Sprintf(`
    shared_credentials_files = [%q]
    endpoints = {
      s3  = %q
      sts = %q
    }
    use_path_style = true
`, credFile, e.S3URL(), e.STSURL())
}

func TestRealTerraformS3Backend(t *testing.T) {
	type variant struct {
		version string
		tls     bool // S3 over HTTPS: the v2 SDK then streams aws-chunked bodies with trailing checksums
	}
	for _, v := range []variant{{"1.5.7", false}, {"1.5.7", true}, {"1.8.5", false}, {"1.8.5", true}} {
		version := v.version
		t.Run(fmt.Sprintf("%s/tls=%v", v.version, v.tls), func(t *testing.T) {
			bin := terraformBinary(t, version)
			var logBuf bytes.Buffer
			e := startEmu(t, awsemu.Config{
				Roles: []awsemu.Role{
					{ARN: hubRole, TrustOIDCSubjects: []string{"repo:example/infra:*"}},
					{ARN: spokeRole, TrustPrincipals: []string{hubRole}},
				},
				Buckets: []awsemu.Bucket{{Name: "tfstate"}},
				S3TLS:   v.tls,
				Logger:  slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})

			hub := webIdentity(t, e, hubRole, "gha")
			spoke := assumeRole(t, e, static(hub.Credentials), spokeRole, "terraform")
			spokeARN := aws.ToString(spoke.AssumedRoleUser.Arn)

			dir := t.TempDir()
			credFile := filepath.Join(dir, "credentials")
			creds := fmt.Sprintf("[emu]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n",
				*spoke.Credentials.AccessKeyId, *spoke.Credentials.SecretAccessKey, *spoke.Credentials.SessionToken)
			if err := os.WriteFile(credFile, []byte(creds), 0o600); err != nil {
				t.Fatal(err)
			}
			work := filepath.Join(dir, "work")
			if err := os.Mkdir(work, 0o755); err != nil {
				t.Fatal(err)
			}
			mainTF := fmt.Sprintf(`terraform {
  backend "s3" {%s  }
}

resource "terraform_data" "demo" {
  input = "emulated"
}

output "demo" {
  value = terraform_data.demo.output
}
`, backendBlock(version, e, credFile))
			if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(mainTF), 0o644); err != nil {
				t.Fatal(err)
			}
			env := []string{
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + dir,
				"TF_CLI_CONFIG_FILE=/dev/null",
				"CHECKPOINT_DISABLE=1",
				"TF_IN_AUTOMATION=1",
				"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config"),
				"AWS_EC2_METADATA_DISABLED=true",
			}
			if v.tls {
				ca := filepath.Join(dir, "ca.pem")
				if err := os.WriteFile(ca, e.S3CACertPEM(), 0o644); err != nil {
					t.Fatal(err)
				}
				env = append(env, "SSL_CERT_FILE="+ca)
			}
			run := func(args ...string) {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Dir, cmd.Env = work, env
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
				}
			}
			run("init", "-input=false", "-no-color")
			run("apply", "-auto-approve", "-input=false", "-no-color")

			// The state landed in the emulated bucket.
			observed := e.S3Requests()
			c := s3Client(e, static(spoke.Credentials), nil)
			obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("demo/terraform.tfstate")})
			if err != nil {
				t.Fatalf("state object not in the bucket: %v", err)
			}
			raw, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			var state struct {
				Version int `json:"version"`
				Outputs map[string]struct {
					Value any `json:"value"`
				} `json:"outputs"`
				Resources []struct{ Type string } `json:"resources"`
			}
			if err := json.Unmarshal(raw, &state); err != nil {
				t.Fatalf("state is not JSON: %v\n%s", err, raw)
			}
			if state.Version != 4 || state.Outputs["demo"].Value != "emulated" || len(state.Resources) != 1 || state.Resources[0].Type != "terraform_data" {
				t.Errorf("unexpected state: %s", raw)
			}

			// Over HTTPS the v2 SDK (terraform >= 1.6) uploads the state as
			// an aws-chunked body with a trailing checksum; make sure this
			// variant really exercised the decoder.
			if v.tls && !strings.HasPrefix(version, "1.5.") && !strings.Contains(logBuf.String(), "operation=PutObject payload=STREAMING-") {
				t.Errorf("terraform %s over HTTPS did not stream the state upload; log:\n%s", version, logBuf.String())
			}
			// Every S3 request terraform made was signed by the role session.
			var puts int
			for _, r := range observed {
				if r.PrincipalARN != spokeARN {
					t.Errorf("%s %s/%s (%s) signed by %q; want %q", r.Method, r.Bucket, r.Key, r.Operation, r.PrincipalARN, spokeARN)
				}
				if r.Status >= 400 && !(r.Status == 404 && (r.Operation == "GetObject" || r.Operation == "HeadObject")) {
					t.Errorf("%s %s/%s (%s) failed with %d", r.Method, r.Bucket, r.Key, r.Operation, r.Status)
				}
				if r.Operation == "PutObject" && r.Key == "demo/terraform.tfstate" {
					puts++
				}
			}
			if puts == 0 {
				t.Errorf("no PutObject of the state recorded; requests: %+v", observed)
			}
			// skip_credentials_validation = false made terraform call
			// GetCallerIdentity with the profile's session.
			var verified bool
			for _, c := range e.Calls() {
				if c.Action == "GetCallerIdentity" && c.CallerARN == spokeARN && c.ErrorCode == "" {
					verified = true
				}
			}
			if !verified {
				t.Errorf("no successful GetCallerIdentity by %s; calls: %+v", spokeARN, e.Calls())
			}
			// No credential of the session ended up in terraform's files.
			_ = filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(p)
				for _, s := range []string{*spoke.Credentials.SecretAccessKey, *spoke.Credentials.SessionToken} {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s contains a secret", p)
					}
				}
				return nil
			})
		})
	}
}

// TestTerraformDirOverride checks that TFAUTH_TEST_TERRAFORM_DIR is honoured
// and that an absent binary skips when CI is not "true".
func TestTerraformDirOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "0.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TFAUTH_TEST_TERRAFORM_DIR", dir)
	t.Setenv("CI", "")
	ok := t.Run("absent", func(t *testing.T) {
		terraformBinary(t, "0.0.0")
		t.Error("terraformBinary returned for an absent binary")
	})
	if !ok {
		t.Error("absent binary did not skip")
	}
}
