// Command shimbench measures what the tfauth shim adds to terraform's own
// start-up: it runs bare terraform and terraform through the shim
// alternately, pair by pair, in one process, so that machine noise hits
// both sides alike, and prints the median times, the median of the per-pair
// ratios and the median added milliseconds.
//
//	go run ./internal/shimbench -terraform PATH -tfauth PATH [-floor PATH] [-pairs 40]
//
// With -floor (the floorshim command built beside it), a third column shows
// a Go shim that does nothing but exec terraform: the floor of the approach.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	tf := flag.String("terraform", "", "the real terraform")
	tfauth := flag.String("tfauth", "", "the built tfauth binary")
	floor := flag.String("floor", "", "optional: the built floorshim, measured alongside")
	pairs := flag.Int("pairs", 40, "number of alternating pairs per command")
	flag.Parse()
	if *tf == "" || *tfauth == "" {
		fmt.Fprintln(os.Stderr, "usage: shimbench -terraform PATH -tfauth PATH [-pairs N]")
		os.Exit(2)
	}
	if err := run(*tf, *tfauth, *floor, *pairs); err != nil {
		fmt.Fprintln(os.Stderr, "shimbench:", err)
		os.Exit(1)
	}
}

func run(tf, tfauth, floor string, pairs int) error {
	work, err := os.MkdirTemp("", "shimbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	shimDir := filepath.Join(work, "shim")
	realDir := filepath.Join(work, "real")
	fmtDir := filepath.Join(work, "fmt")
	cfgDir := filepath.Join(work, "configured")
	for _, d := range []string{shimDir, realDir, fmtDir, cfgDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink(tfauth, filepath.Join(shimDir, "terraform")); err != nil {
		return err
	}
	if err := os.Symlink(tf, filepath.Join(realDir, "terraform")); err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		src := fmt.Sprintf("resource \"terraform_data\" \"r%d\" {\n  input = \"%d\"\n}\n", i, i)
		if err := os.WriteFile(filepath.Join(fmtDir, fmt.Sprintf("f%d.tf", i)), []byte(src), 0o644); err != nil {
			return err
		}
	}
	// A configured root module: tfauth finds tfauth.yaml, but `version`
	// needs no credentials, so only terraform.path is read from it.
	if err := os.WriteFile(filepath.Join(cfgDir, "tfauth.yaml"), []byte(benchConfig), 0o644); err != nil {
		return err
	}
	env := append(os.Environ(), "FLOORSHIM_TARGET="+tf,
		"PATH="+shimDir+string(os.PathListSeparator)+realDir+string(os.PathListSeparator)+"/usr/bin:/bin",
		"TF_CLI_CONFIG_FILE=/dev/null", "CHECKPOINT_DISABLE=1", "TFAUTH_CONFIG=", "HOME="+work)
	cases := []struct {
		name string
		args []string
		dir  string
	}{
		{"terraform version", []string{"version"}, work},
		{"terraform fmt -check", []string{"fmt", "-check"}, fmtDir},
		{"terraform version, tfauth.yaml present", []string{"version"}, cfgDir},
	}
	fmt.Printf("| command | pairs | bare median | tfauth median | tfauth ratio | tfauth added | floor shim ratio | floor shim added |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range cases {
		var bare, shim, ratio, added, fratio, fadded []float64
		for i := 0; i < pairs+3; i++ {
			b, err := timeOne(filepath.Join(realDir, "terraform"), c.args, c.dir, env)
			if err != nil {
				return err
			}
			s, err := timeOne(filepath.Join(shimDir, "terraform"), c.args, c.dir, env)
			if err != nil {
				return err
			}
			f := b
			if floor != "" {
				if f, err = timeOne(floor, c.args, c.dir, env); err != nil {
					return err
				}
			}
			if i < 3 {
				continue // warm-up: page cache, first exec
			}
			bare, shim = append(bare, b), append(shim, s)
			ratio, added = append(ratio, s/b), append(added, s-b)
			fratio, fadded = append(fratio, f/b), append(fadded, f-b)
		}
		fr, fa := "-", "-"
		if floor != "" {
			fr, fa = fmt.Sprintf("%.3f", median(fratio)), fmt.Sprintf("%+.2f ms", median(fadded))
		}
		fmt.Printf("| %s | %d | %.2f ms | %.2f ms | %.3f | %+.2f ms | %s | %s |\n",
			c.name, pairs, median(bare), median(shim), median(ratio), median(added), fr, fa)
	}
	return nil
}

const benchConfig = `auth:
  providers:
    github:
      kind: github/oidc
  identities:
    core-network:
      kind: aws/assume-role
      default: true
      required: true
      via: {provider: github}
      principal: {assume_role: "arn:aws:iam::111111111111:role/core-network"}
    plat-prod:
      kind: aws/assume-role
      required: true
      via: {provider: github}
      principal: {assume_role: "arn:aws:iam::222222222222:role/plat-prod"}
`

// timeOne runs one command and returns its wall time in milliseconds.
func timeOne(path string, args []string, dir string, env []string) (float64, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %v: %w\n%s", path, args, err, out)
	}
	return float64(d.Microseconds()) / 1000, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
