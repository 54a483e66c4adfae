//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
	"gopkg.in/yaml.v3"
)

// Script commands that run the steps of the CI guides' example files
// (examples/github-actions, examples/gitlab-ci, examples/atlantis) the way
// each CI system would, so a test breaks when an example drifts:
//
//	gha WORKFLOW JOB                         GitHub Actions: the job's steps
//	gitlab [-sub SUBJECT] CI-FILE JOB        GitLab CI: the job's script
//	atlantis [-parallel] REPOS-YAML WORKFLOW STAGE [NAME=]DIR...
//	                                         Atlantis: a workflow stage for each project
//
// Every step runs with no standard input and no controlling terminal, as on
// a CI runner. `! CMD` expects the job to fail.

// scriptEnv returns the script's whole environment (testscript offers no
// accessor for it), written by env(1) run in it to a file outside $WORK so
// that neither the log nor `awsemu nosecrets` sees it.
func scriptEnv(ts *testscript.TestScript) []string {
	f, err := os.CreateTemp("", "tfauth-e2e-env")
	ts.Check(err)
	f.Close()
	defer os.Remove(f.Name())
	ts.Check(ts.Exec("sh", "-c", `env -0 >"$1"`, "sh", f.Name()))
	b, err := os.ReadFile(f.Name())
	ts.Check(err)
	var env []string
	for _, kv := range strings.Split(string(b), "\x00") {
		if strings.Contains(kv, "=") && !strings.HasPrefix(kv, "PWD=") {
			env = append(env, kv)
		}
	}
	return env
}

// envList is an ordered environment with set/unset/get.
type envList struct{ kv []string }

func (e *envList) get(k string) string {
	for i := len(e.kv) - 1; i >= 0; i-- {
		if name, v, _ := strings.Cut(e.kv[i], "="); name == k {
			return v
		}
	}
	return ""
}

func (e *envList) unset(k string) {
	e.kv = slices.DeleteFunc(e.kv, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
}

func (e *envList) set(k, v string) { e.unset(k); e.kv = append(e.kv, k+"="+v) }

func (e *envList) clone() *envList { return &envList{kv: slices.Clone(e.kv)} }

// expand expands $VAR and ${VAR} from the list, as CI systems do in their
// variables.
func (e *envList) expand(s string) string { return os.Expand(s, e.get) }

// runCI runs argv with no stdin, no controlling terminal (a new session) and
// the given environment and directory, returning its output and exit status.
func runCI(dir string, env *envList, stdout, stderr *bytes.Buffer, argv ...string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env.kv
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err := cmd.Run()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(stderr, "%v\n", err)
	return 127
}

// finish reports a job's result: with neg the job must have failed.
func finish(ts *testscript.TestScript, neg bool, failed string) {
	switch {
	case failed != "" && !neg:
		ts.Fatalf("%s", failed)
	case failed == "" && neg:
		ts.Fatalf("the job succeeded; want a failure")
	}
}

// ----- GitHub Actions -----

type ghWorkflow struct {
	Name        string            `yaml:"name"`
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Defaults    ghDefaults        `yaml:"defaults"`
	Concurrency yaml.Node         `yaml:"concurrency"`
	Jobs        map[string]ghJob  `yaml:"jobs"`
}

type ghDefaults struct {
	Run struct {
		Shell            string `yaml:"shell"`
		WorkingDirectory string `yaml:"working-directory"`
	} `yaml:"run"`
}

type ghJob struct {
	Name           string            `yaml:"name"`
	RunsOn         yaml.Node         `yaml:"runs-on"`
	Permissions    yaml.Node         `yaml:"permissions"`
	Env            map[string]string `yaml:"env"`
	Defaults       ghDefaults        `yaml:"defaults"`
	TimeoutMinutes int               `yaml:"timeout-minutes"`
	Steps          []ghStep          `yaml:"steps"`
}

type ghStep struct {
	Name             string            `yaml:"name"`
	ID               string            `yaml:"id"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	WorkingDirectory string            `yaml:"working-directory"`
	Env              map[string]string `yaml:"env"`
	ContinueOnError  bool              `yaml:"continue-on-error"`
	TimeoutMinutes   int               `yaml:"timeout-minutes"`
}

// idTokenWrite reports whether a permissions node grants id-token: write.
func idTokenWrite(n yaml.Node) (granted, set bool) {
	switch n.Kind {
	case 0:
		return false, false
	case yaml.ScalarNode:
		return n.Value == "write-all", true
	case yaml.MappingNode:
		var m map[string]string
		_ = n.Decode(&m)
		return m["id-token"] == "write", true
	}
	return false, true
}

var ghExpr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// cmdGHA runs a GitHub Actions job's steps as a hosted runner would: each
// `run:` step is a script file run by `bash -e` (`shell: bash` adds
// `--noprofile --norc -o pipefail`) in the step's working directory, with
// the workflow, job and step `env:`, and GITHUB_ENV/GITHUB_PATH/
// GITHUB_OUTPUT processed between steps. The script's directory is the
// checked-out workspace. Without `id-token: write` the runner withholds
// ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, as GitHub does. Of the `uses:`
// steps, actions/checkout and actions/setup-go are no-ops (the script
// provides the checkout and a `go`), and hashicorp/setup-terraform puts
// $REALTF's directory in front of PATH, as its core.addPath does; it must
// have `terraform_wrapper: false`. Any other action or `${{ }}` expression
// beyond steps.*.outputs.*, env.*, runner.temp and github.workspace fails
// the command. Step output goes to stdout/stderr after a "## step NAME"
// line; at the end each step output is printed as "output ID.NAME=VALUE".
func cmdGHA(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: gha WORKFLOW JOB")
	}
	var wf ghWorkflow
	dec := yaml.NewDecoder(strings.NewReader(ts.ReadFile(args[0])))
	dec.KnownFields(true)
	ts.Check(dec.Decode(&wf))
	job, ok := wf.Jobs[args[1]]
	if !ok {
		ts.Fatalf("gha: no job %q in %s", args[1], args[0])
	}

	ws := ts.MkAbs(".")
	temp := ts.MkAbs(".runner/temp")
	ts.Check(os.MkdirAll(temp, 0o755))
	base := &envList{kv: scriptEnv(ts)}
	for k, v := range map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": temp,
		"GITHUB_WORKSPACE": ws, "GITHUB_JOB": args[1], "GITHUB_REPOSITORY": "example/infra",
		"GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push", "GITHUB_RUN_ID": "1",
	} {
		base.set(k, v)
	}
	granted, set := idTokenWrite(job.Permissions)
	if !set {
		granted, _ = idTokenWrite(wf.Permissions)
	}
	if !granted {
		base.unset("ACTIONS_ID_TOKEN_REQUEST_URL")
		base.unset("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	}
	for _, m := range []map[string]string{wf.Env, job.Env} {
		for _, k := range sortedKeys(m) {
			base.set(k, m[k])
		}
	}

	var addPath []string // GITHUB_PATH entries, newest first
	ghEnv := map[string]string{}
	outputs := map[string]map[string]string{}
	out, errOut := ts.Stdout(), ts.Stderr()
	failed := ""
	for i, st := range job.Steps {
		name := st.Name
		if name == "" {
			name = firstNonEmpty(st.Uses, strings.SplitN(st.Run, "\n", 2)[0])
		}
		fmt.Fprintf(out, "## step %s\n", name)
		if st.Uses != "" {
			action, _, _ := strings.Cut(st.Uses, "@")
			switch action {
			case "actions/checkout", "actions/setup-go":
			case "hashicorp/setup-terraform":
				if st.With["terraform_wrapper"] != "false" {
					failed = "gha: hashicorp/setup-terraform without `terraform_wrapper: false`: its wrapper script would sit between tfauth and terraform"
				}
				addPath = append([]string{filepath.Dir(ts.Getenv("REALTF"))}, addPath...)
			default:
				failed = fmt.Sprintf("gha: action %s is not emulated", st.Uses)
			}
			if failed != "" {
				break
			}
			continue
		}
		env := base.clone()
		for k, v := range ghEnv {
			env.set(k, v)
		}
		for _, k := range sortedKeys(st.Env) {
			env.set(k, st.Env[k])
		}
		env.set("PATH", strings.Join(append(slices.Clone(addPath), env.get("PATH")), string(os.PathListSeparator)))
		files := map[string]string{}
		for _, f := range []string{"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
			files[f] = filepath.Join(temp, fmt.Sprintf("%s_%d", strings.ToLower(f), i))
			ts.Check(os.WriteFile(files[f], nil, 0o644))
			env.set(f, files[f])
		}
		script := ghExpr.ReplaceAllStringFunc(st.Run, func(m string) string {
			expr := ghExpr.FindStringSubmatch(m)[1]
			parts := strings.Split(expr, ".")
			switch {
			case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
				return outputs[parts[1]][parts[3]]
			case len(parts) == 2 && parts[0] == "env":
				return env.get(parts[1])
			case expr == "runner.temp":
				return temp
			case expr == "github.workspace":
				return ws
			}
			failed = fmt.Sprintf("gha: expression %q is not emulated", m)
			return ""
		})
		if failed != "" {
			break
		}
		scriptFile := filepath.Join(temp, fmt.Sprintf("step_%d.sh", i))
		ts.Check(os.WriteFile(scriptFile, []byte(script), 0o644))
		var argv []string
		switch shell := firstNonEmpty(st.Shell, job.Defaults.Run.Shell, wf.Defaults.Run.Shell); shell {
		case "":
			argv = []string{"bash", "-e", scriptFile}
		case "bash":
			argv = []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", scriptFile}
		case "sh":
			argv = []string{"sh", "-e", scriptFile}
		default:
			ts.Fatalf("gha: shell %q is not emulated", shell)
		}
		dir := filepath.Join(ws, firstNonEmpty(st.WorkingDirectory, job.Defaults.Run.WorkingDirectory, wf.Defaults.Run.WorkingDirectory))
		var so, se bytes.Buffer
		code := runCI(dir, env, &so, &se, argv...)
		out.Write(so.Bytes())
		errOut.Write(se.Bytes())

		for k, v := range parseKV(ts.ReadFile(files["GITHUB_ENV"])) {
			ghEnv[k] = v
		}
		for _, p := range strings.Split(strings.TrimSpace(ts.ReadFile(files["GITHUB_PATH"])), "\n") {
			if p != "" {
				addPath = append([]string{p}, addPath...)
			}
		}
		if st.ID != "" {
			outputs[st.ID] = parseKV(ts.ReadFile(files["GITHUB_OUTPUT"]))
		}
		if code != 0 {
			fmt.Fprintf(errOut, "##[error]step %q: Process completed with exit code %d.\n", name, code)
			if !st.ContinueOnError {
				failed = fmt.Sprintf("gha: step %q failed with exit code %d", name, code)
				break
			}
		}
	}
	for _, id := range sortedKeys(outputs) {
		for _, k := range sortedKeys(outputs[id]) {
			fmt.Fprintf(out, "output %s.%s=%s\n", id, k, outputs[id][k])
		}
	}
	finish(ts, neg, failed)
}

// parseKV reads a GITHUB_ENV/GITHUB_OUTPUT file: NAME=VALUE lines and
// NAME<<DELIM heredocs.
func parseKV(s string) map[string]string {
	m := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if k, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(k, "=") {
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			m[k] = strings.Join(v, "\n")
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// ----- GitLab CI -----

type glJob struct {
	Image        yaml.Node                 `yaml:"image"`
	Stage        string                    `yaml:"stage"`
	Variables    map[string]string         `yaml:"variables"`
	IDTokens     map[string]map[string]any `yaml:"id_tokens"`
	BeforeScript []string                  `yaml:"before_script"`
	Script       []string                  `yaml:"script"`
	AfterScript  []string                  `yaml:"after_script"`
	Rules        yaml.Node                 `yaml:"rules"`
	Artifacts    yaml.Node                 `yaml:"artifacts"`
	Cache        yaml.Node                 `yaml:"cache"`
	Needs        yaml.Node                 `yaml:"needs"`
	When         string                    `yaml:"when"`
	Environment  yaml.Node                 `yaml:"environment"`
	Resource     string                    `yaml:"resource_group"`
	Extra        map[string]yaml.Node      `yaml:",inline"`
}

// cmdGitLab runs a GitLab CI job as a shell runner would: before_script and
// script as one `bash` session with `set -eo pipefail`, each command echoed
// as "$ COMMAND"; global then job `variables` (with $VAR expansion); each
// `id_tokens` entry minted by the emulator with its `aud` and the subject
// (default GitLab's "project_path:example/infra:ref_type:branch:ref:main").
// The GitHub Actions variables are removed. The script's directory is
// CI_PROJECT_DIR.
func cmdGitLab(ts *testscript.TestScript, neg bool, args []string) {
	sub := "project_path:example/infra:ref_type:branch:ref:main"
	if len(args) > 1 && args[0] == "-sub" {
		sub, args = args[1], args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: gitlab [-sub SUBJECT] CI-FILE JOB")
	}
	var doc map[string]yaml.Node
	ts.Check(yaml.Unmarshal([]byte(ts.ReadFile(args[0])), &doc))
	for k := range doc {
		switch k {
		case "include", "workflow":
			ts.Fatalf("gitlab: top-level %q is not emulated", k)
		}
	}
	n, ok := doc[args[1]]
	if !ok {
		ts.Fatalf("gitlab: no job %q in %s", args[1], args[0])
	}
	var job glJob
	ts.Check(n.Decode(&job))
	for k := range job.Extra {
		ts.Fatalf("gitlab: job key %q is not emulated", k)
	}
	var global struct {
		Variables map[string]string `yaml:"variables"`
		Default   struct {
			BeforeScript []string `yaml:"before_script"`
		} `yaml:"default"`
	}
	if v, ok := doc["variables"]; ok {
		ts.Check(v.Decode(&global.Variables))
	}
	if v, ok := doc["default"]; ok {
		ts.Check(v.Decode(&global.Default))
	}

	dir := ts.MkAbs(".")
	env := &envList{kv: scriptEnv(ts)}
	for _, k := range []string{"GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
		env.unset(k)
	}
	for k, v := range map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": dir, "CI_JOB_NAME": args[1],
		"CI_PROJECT_PATH": "example/infra", "CI_COMMIT_REF_NAME": "main", "CI_PIPELINE_SOURCE": "push",
	} {
		env.set(k, v)
	}
	for _, m := range []map[string]string{global.Variables, job.Variables} {
		for _, k := range sortedKeys(m) {
			env.set(k, env.expand(m[k]))
		}
	}
	for _, name := range sortedKeys(job.IDTokens) {
		var aud string
		switch a := job.IDTokens[name]["aud"].(type) {
		case string:
			aud = a
		case []any:
			if len(a) > 0 {
				aud, _ = a[0].(string)
			}
		}
		if aud == "" {
			ts.Fatalf("gitlab: id_tokens.%s has no aud", name)
		}
		tok, err := emulator(ts).MintToken(aud, sub)
		ts.Check(err)
		env.set(name, tok)
	}

	before := job.BeforeScript
	if before == nil {
		before = global.Default.BeforeScript
	}
	var sh strings.Builder
	sh.WriteString("set -eo pipefail\n")
	for _, c := range append(slices.Clone(before), job.Script...) {
		fmt.Fprintf(&sh, "printf '%%s\\n' %s\n%s\n", shellQuote("$ "+c), c)
	}
	var so, se bytes.Buffer
	code := runCI(dir, env, &so, &se, "bash", "--noprofile", "--norc", "-c", sh.String())
	ts.Stdout().Write(so.Bytes())
	ts.Stderr().Write(se.Bytes())
	failed := ""
	if code != 0 {
		fmt.Fprintf(ts.Stderr(), "ERROR: Job failed: exit code %d\n", code)
		failed = fmt.Sprintf("gitlab: job %s failed with exit code %d", args[1], code)
	}
	finish(ts, neg, failed)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ----- Atlantis -----

// cmdAtlantis runs one stage (plan or apply) of a server-side repos.yaml
// custom workflow for each project DIR (relative to the script's
// directory, named NAME or the directory's base name), as Atlantis's run
// step runner does: each `run` step under `sh -c` in the project directory,
// with the process environment plus Atlantis's variables (DIR, REPO_REL_DIR,
// WORKSPACE, PROJECT_NAME, PLANFILE, SHOWFILE, ATLANTIS_TERRAFORM_VERSION =
// $TFVER, ...), PATH with $ATLANTIS_DATA_DIR/bin appended, no standard
// input and no terminal; `env` steps (value or command) set a variable for
// the later steps. A built-in step (init, plan, apply, ...) fails the
// command: Atlantis runs those with terraform's absolute path, past a shim.
// With -parallel the projects run at once (parallel_plan/parallel_apply).
// Each project's output, ANSI escapes stripped as Atlantis does, is printed
// with a "[NAME] " prefix on every line.
func cmdAtlantis(ts *testscript.TestScript, neg bool, args []string) {
	parallel := false
	if len(args) > 0 && args[0] == "-parallel" {
		parallel, args = true, args[1:]
	}
	if len(args) < 4 {
		ts.Fatalf("usage: atlantis [-parallel] REPOS-YAML WORKFLOW STAGE [NAME=]DIR...")
	}
	var cfg struct {
		Repos     yaml.Node `yaml:"repos"`
		Workflows map[string]map[string]struct{ Steps []yaml.Node }
	}
	ts.Check(yaml.Unmarshal([]byte(ts.ReadFile(args[0])), &cfg))
	stage, ok := cfg.Workflows[args[1]][args[2]]
	if !ok {
		ts.Fatalf("atlantis: no stage %s.%s in %s", args[1], args[2], args[0])
	}
	type step struct{ run, envName, envValue, envCmd string }
	var steps []step
	var builtin []string
	for _, n := range stage.Steps {
		if n.Kind == yaml.ScalarNode {
			builtin = append(builtin, n.Value)
			continue
		}
		var m map[string]yaml.Node
		ts.Check(n.Decode(&m))
		for k, v := range m {
			switch k {
			case "run":
				var s step
				if v.Kind == yaml.MappingNode {
					var r struct{ Command string }
					ts.Check(v.Decode(&r))
					s.run = r.Command
				} else {
					s.run = v.Value
				}
				steps = append(steps, s)
			case "env":
				var e struct{ Name, Value, Command string }
				ts.Check(v.Decode(&e))
				steps = append(steps, step{envName: e.Name, envValue: e.Value, envCmd: e.Command})
			default:
				builtin = append(builtin, k)
			}
		}
	}

	if len(builtin) > 0 {
		for _, b := range builtin {
			fmt.Fprintf(ts.Stderr(), "atlantis: built-in step %q runs terraform by absolute path, bypassing tfauth; use a run step\n", b)
		}
		finish(ts, neg, "atlantis: built-in steps")
		return
	}
	base := &envList{kv: scriptEnv(ts)}
	dataDir := base.get("ATLANTIS_DATA_DIR")
	if dataDir == "" {
		ts.Fatalf("atlantis: set ATLANTIS_DATA_DIR")
	}
	base.set("PATH", base.get("PATH")+string(os.PathListSeparator)+filepath.Join(dataDir, "bin"))
	for k, v := range map[string]string{
		"ATLANTIS_TERRAFORM_VERSION": ts.Getenv("TFVER"), "ATLANTIS_TERRAFORM_DISTRIBUTION": "terraform",
		"WORKSPACE": "default", "BASE_REPO_NAME": "infra", "BASE_REPO_OWNER": "example", "BASE_BRANCH_NAME": "main",
		"HEAD_REPO_NAME": "infra", "HEAD_REPO_OWNER": "example", "HEAD_BRANCH_NAME": "feature", "HEAD_COMMIT": "0123456789abcdef",
		"PULL_NUM": "1", "PULL_AUTHOR": "octocat", "PULL_URL": "https://example.invalid/example/infra/pull/1",
		"USER_NAME": "octocat", "COMMENT_ARGS": "",
	} {
		base.set(k, v)
	}

	type result struct {
		out    bytes.Buffer
		failed string
	}
	projects := args[3:]
	results := make([]result, len(projects))
	names := make([]string, len(projects))
	var wg sync.WaitGroup
	for i, p := range projects {
		name, rel, ok := strings.Cut(p, "=")
		if !ok {
			rel, name = p, filepath.Base(p)
		}
		names[i] = name
		dir := ts.MkAbs(rel)
		env := base.clone()
		env.set("DIR", dir)
		env.set("REPO_REL_DIR", rel)
		env.set("PROJECT_NAME", name)
		env.set("PLANFILE", filepath.Join(dir, name+"-default.tfplan"))
		env.set("SHOWFILE", filepath.Join(dir, name+"-default.json"))
		r := &results[i]
		run := func() {
			for _, s := range steps {
				var se bytes.Buffer
				switch {
				case s.envName != "" && s.envCmd == "":
					env.set(s.envName, s.envValue)
				case s.envName != "":
					var so bytes.Buffer
					if code := runCI(dir, env, &so, &se, "sh", "-c", s.envCmd); code != 0 {
						r.out.Write(se.Bytes())
						r.failed = fmt.Sprintf("env step %s: exit status %d", s.envName, code)
						return
					}
					env.set(s.envName, strings.TrimSpace(so.String()))
				default:
					// Atlantis captures stdout and stderr together.
					if code := runCI(dir, env, &r.out, &r.out, "sh", "-c", s.run); code != 0 {
						r.failed = fmt.Sprintf("run %q: exit status %d", s.run, code)
						return
					}
				}
			}
		}
		if parallel {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		} else {
			run()
		}
	}
	wg.Wait()
	failed := ""
	for i, r := range results {
		for _, l := range strings.SplitAfter(ansiEscape.ReplaceAllString(r.out.String(), ""), "\n") {
			if l != "" {
				fmt.Fprintf(ts.Stdout(), "[%s] %s", names[i], strings.TrimSuffix(l, "\n")+"\n")
			}
		}
		if r.failed != "" {
			fmt.Fprintf(ts.Stderr(), "[%s] %s\n", names[i], r.failed)
			failed = "atlantis: a project failed"
		}
	}
	finish(ts, neg, failed)
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
