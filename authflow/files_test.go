package authflow_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/tfauth/tfauth/authflow"
)

func skipOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions and flock")
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestNewSessionDir(t *testing.T) {
	skipOnWindows(t)
	t.Parallel()
	base := t.TempDir()
	d1, err := authflow.NewSessionDir(base)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := authflow.NewSessionDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if d1.Path == d2.Path || filepath.Dir(d1.Path) != base || !strings.HasPrefix(filepath.Base(d1.Path), "tfauth-") {
		t.Errorf("paths %q and %q; want two distinct tfauth-* under %s", d1.Path, d2.Path, base)
	}
	if got := mode(t, d1.Path); got != fs.ModeDir|0o700 {
		t.Errorf("directory mode = %v; want drwx------", got)
	}
	if got := mode(t, filepath.Join(d1.Path, ".lock")); got != 0o600 {
		t.Errorf("lock mode = %v; want -rw-------", got)
	}
	// The lock is held: a sweep leaves both directories alone.
	if err := authflow.Sweep(base); err != nil {
		t.Fatal(err)
	}
	if !exists(d1.Path) || !exists(d2.Path) {
		t.Fatal("Sweep removed a directory whose lock is held")
	}
	if err := d1.Remove(); err != nil {
		t.Fatal(err)
	}
	if exists(d1.Path) {
		t.Error("Remove left the directory")
	}
	if err := d2.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestSweep(t *testing.T) {
	skipOnWindows(t)
	t.Parallel()
	base := t.TempDir()
	old := time.Now().Add(-time.Hour)

	live, err := authflow.NewSessionDir(base)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()

	// A killed run: its lock file remains but nobody holds it.
	dead, err := authflow.NewSessionDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead.Path, "credentials"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead.Lock.Close()

	mkdir := func(name string, mtime time.Time) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldLockless := mkdir("tfauth-1001", old)
	youngLockless := mkdir("tfauth-1002", time.Now())
	other := mkdir("other-old", old)
	// Named tfauth-* but not a session directory: by name, or by content.
	notSessionName := mkdir("tfauth-e2e-bin", old)
	notSessionContent := mkdir("tfauth-1003", old)
	if err := os.WriteFile(filepath.Join(notSessionContent, "tfauth"), []byte("a binary"), 0o700); err != nil {
		t.Fatal(err)
	}

	// A symlink named like a session directory, pointing at an abandoned
	// one elsewhere: neither may be touched.
	elsewhere := t.TempDir()
	target, err := authflow.NewSessionDir(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	target.Lock.Close()
	link := filepath.Join(base, "tfauth-link")
	if err := os.Symlink(target.Path, link); err != nil {
		t.Fatal(err)
	}
	// A session directory whose .lock is a symlink: left alone.
	symLock := mkdir("tfauth-1004", old)
	if err := os.Symlink(filepath.Join(target.Path, ".lock"), filepath.Join(symLock, ".lock")); err != nil {
		t.Fatal(err)
	}

	if err := authflow.Sweep(base); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{live.Path, true},
		{dead.Path, false},
		{oldLockless, false},
		{youngLockless, true},
		{other, true},
		{link, true},
		{target.Path, true},
		{symLock, true},
		{notSessionName, true},
		{notSessionContent, true},
	} {
		if got := exists(tc.path); got != tc.want {
			t.Errorf("%s exists = %v; want %v", filepath.Base(tc.path), got, tc.want)
		}
	}
}

func creds(ak, sk, tok, region string) *authflow.Credentials {
	return &authflow.Credentials{AccessKeyID: authflow.NewSecret(ak), SecretAccessKey: authflow.NewSecret(sk),
		SessionToken: authflow.NewSecret(tok), Region: region}
}

func TestWriteProfiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := &authflow.Results{
		Primary: "prod",
		Order:   []string{"prod", "default", "core/network"},
		Profiles: map[string]*authflow.Credentials{
			"prod":         creds("ASIAPROD000000000001", "prodSecret/+=", "prodToken+/=", "eu-west-1"),
			"default":      creds("ASIADEFAULT000000002", "defSecret", "defToken", "us-west-2"),
			"core/network": creds("AKIANETWORK000000003", "netSecret", "", ""),
		},
	}
	f, err := authflow.WriteProfiles(dir, res, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Credentials != filepath.Join(dir, "credentials") || f.Config != filepath.Join(dir, "config") {
		t.Errorf("Files = %+v", f)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{f.Credentials, f.Config} {
			if got := mode(t, p); got != 0o600 {
				t.Errorf("%s mode = %v; want -rw-------", p, got)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d entries; want only the two files (no temporaries)", len(entries))
	}
	// The AWS SDK's own parser reads every profile back.
	for name, c := range res.Profiles {
		sc := loadProfile(t, f, name)
		want := [4]string{c.AccessKeyID.Reveal(), c.SecretAccessKey.Reveal(), c.SessionToken.Reveal(), c.Region}
		got := [4]string{sc.Credentials.AccessKeyID, sc.Credentials.SecretAccessKey, sc.Credentials.SessionToken, sc.Region}
		if got != want {
			t.Errorf("profile %s read back as %q; want %q", name, got, want)
		}
	}
	cfgText, _ := os.ReadFile(f.Config)
	credText, _ := os.ReadFile(f.Credentials)
	if !strings.Contains(string(cfgText), "[default]") || strings.Contains(string(cfgText), "[profile default]") {
		t.Errorf("config file:\n%s\nwant [default] for the identity named default", cfgText)
	}
	var sections []string
	for _, l := range strings.Split(string(credText), "\n") {
		if strings.HasPrefix(l, "[") {
			sections = append(sections, l)
		}
	}
	if diff := cmp.Diff([]string{"[prod]", "[default]", "[core/network]"}, sections); diff != "" {
		t.Errorf("credentials sections (-want +got):\n%s", diff)
	}
}

func loadProfile(t *testing.T, f authflow.Files, name string) awsconfig.SharedConfig {
	t.Helper()
	sc, err := awsconfig.LoadSharedConfigProfile(context.Background(), name, func(o *awsconfig.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{f.Credentials}
		o.ConfigFiles = []string{f.Config}
	})
	if err != nil {
		t.Fatalf("load profile %s: %v", name, err)
	}
	return sc
}

func TestWriteProfilesCarry(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	awsDir := filepath.Join(home, ".aws")
	if err := os.Mkdir(awsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const process = `credential_process = sh -c 'printf "%s" "{\"Version\": 1}"; exit 0' # not a comment`
	userCreds := "[prod]\naws_access_key_id = AKIAUSERPROD00000001\naws_secret_access_key = userSecret\n\n" +
		"[ci]\n" + process + "\n\n" +
		"; the user's own comment\n[quoted]\naws_access_key_id = \"AKIAQUOTED0000000001\"\naws_secret_access_key = s\n"
	userConfig := "[default]\nregion = ap-south-1\n\n[profile prod]\nrole_arn = arn:aws:iam::1:role/user\n\n" +
		"[profile dev]\nregion = eu-north-1\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n\n" +
		"[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start#/\nsso_region = us-east-1\n"
	write := func(name, text string) string {
		p := filepath.Join(awsDir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("credentials", userCreds)
	write("config", userConfig)

	res := &authflow.Results{
		Primary:  "prod",
		Order:    []string{"prod"},
		Profiles: map[string]*authflow.Credentials{"prod": creds("ASIAOURS000000000001", "ourSecret", "ourToken", "eu-west-1")},
	}
	getenv := env{"HOME": home, "USERPROFILE": home}.get
	f, err := authflow.WriteProfiles(t.TempDir(), res, true, getenv)
	if err != nil {
		t.Fatal(err)
	}
	credText, _ := os.ReadFile(f.Credentials)
	cfgText, _ := os.ReadFile(f.Config)
	if !strings.Contains(string(credText), process) {
		t.Errorf("credential_process line not copied verbatim:\n%s", credText)
	}
	if !regexp.MustCompile(`(?m)^s3\s*=\s*\n  max_concurrent_requests = 20\n  addressing_style = path$`).Match(cfgText) {
		t.Errorf("nested s3 block not preserved:\n%s", cfgText)
	}
	for _, want := range []string{"[sso-session corp]", "sso_start_url = https://corp.awsapps.com/start#/", "[profile dev]", "region = ap-south-1"} {
		if !strings.Contains(string(cfgText), want) {
			t.Errorf("config lacks %q:\n%s", want, cfgText)
		}
	}
	if strings.Contains(string(credText), "AKIAUSERPROD") || strings.Contains(string(cfgText), "arn:aws:iam::1:role/user") {
		t.Errorf("the user's colliding prod profile was carried over:\n%s\n%s", credText, cfgText)
	}
	// The AWS SDK sees our prod, and the user's profiles as they were.
	if sc := loadProfile(t, f, "prod"); sc.Credentials.AccessKeyID != "ASIAOURS000000000001" || sc.RoleARN != "" {
		t.Errorf("prod = %+v; want ours alone", sc)
	}
	orig := authflow.Files{Credentials: filepath.Join(awsDir, "credentials"), Config: filepath.Join(awsDir, "config")}
	for _, name := range []string{"ci", "dev", "default", "quoted"} {
		want, got := loadProfile(t, orig, name), loadProfile(t, f, name)
		want.Credentials.Source, got.Credentials.Source = "", "" // names the file
		if want.CredentialProcess != got.CredentialProcess || want.Region != got.Region || want.Credentials != got.Credentials {
			t.Errorf("profile %s reads differently after the copy:\ngot  %+v\nwant %+v", name, got, want)
		}
	}
	if sc := loadProfile(t, f, "ci"); !strings.HasPrefix(sc.CredentialProcess, `sh -c 'printf "%s" "{\"Version\": 1}"; exit 0'`) {
		t.Errorf("ci credential_process = %q", sc.CredentialProcess)
	}
	if !strings.Contains(string(credText), `aws_access_key_id = "AKIAQUOTED0000000001"`) &&
		!strings.Contains(string(credText), `aws_access_key_id     = "AKIAQUOTED0000000001"`) {
		t.Errorf("quoted value not preserved:\n%s", credText)
	}

	// Without carry, nothing of the user's is copied.
	f2, err := authflow.WriteProfiles(t.TempDir(), res, false, getenv)
	if err != nil {
		t.Fatal(err)
	}
	credText, _ = os.ReadFile(f2.Credentials)
	if strings.Contains(string(credText), "[ci]") {
		t.Errorf("carry=false copied user profiles:\n%s", credText)
	}

	// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name the user's files.
	alt := t.TempDir()
	altCreds := filepath.Join(alt, "c")
	if err := os.WriteFile(altCreds, []byte("[alt]\naws_access_key_id = AKIAALT0000000000001\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f3, err := authflow.WriteProfiles(t.TempDir(), res, true,
		env{"HOME": home, "AWS_SHARED_CREDENTIALS_FILE": altCreds, "AWS_CONFIG_FILE": filepath.Join(alt, "missing")}.get)
	if err != nil {
		t.Fatal(err)
	}
	credText, _ = os.ReadFile(f3.Credentials)
	if !strings.Contains(string(credText), "[alt]") || strings.Contains(string(credText), "[ci]") {
		t.Errorf("AWS_SHARED_CREDENTIALS_FILE not honoured:\n%s", credText)
	}
}

// TestWriteProfilesCarrySpellings checks that a user's profile named like
// one of ours is dropped whatever its section spelling: aws-sdk-go v1 (the
// S3 backend of terraform 1.5) reads a config file's [plat-prod] before
// [profile plat-prod], and v2 reads [profile default] as default.
func TestWriteProfilesCarrySpellings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	userCreds := filepath.Join(dir, "credentials")
	userConfig := filepath.Join(dir, "config")
	if err := os.WriteFile(userCreds, []byte(
		"[profile plat-prod]\naws_access_key_id = AKIAUSERCREDS0000001\naws_secret_access_key = userSecret\n\n"+
			"[ profile  default ]\naws_access_key_id = AKIAUSERCREDS0000002\naws_secret_access_key = userSecret\n\n"+
			"[mine]\naws_access_key_id = AKIAUSERMINE00000001\naws_secret_access_key = userSecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userConfig, []byte(
		"[plat-prod]\nrole_arn = arn:aws:iam::1:role/user-plat-prod\nsource_profile = legacy\n\n"+
			"[profile default]\nrole_arn = arn:aws:iam::1:role/user-default\nsource_profile = legacy\n\n"+
			"[profile legacy]\nregion = eu-north-1\n\n[sso-session plat-prod]\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := &authflow.Results{
		Primary: "default",
		Order:   []string{"default", "plat-prod"},
		Profiles: map[string]*authflow.Credentials{
			"default":   creds("ASIAOURS000000000001", "ourSecret1", "ourToken1", "us-east-1"),
			"plat-prod": creds("ASIAOURS000000000002", "ourSecret2", "ourToken2", "us-west-2"),
		},
	}
	f, err := authflow.WriteProfiles(t.TempDir(), res, true,
		env{"AWS_SHARED_CREDENTIALS_FILE": userCreds, "AWS_CONFIG_FILE": userConfig}.get)
	if err != nil {
		t.Fatal(err)
	}
	credText, _ := os.ReadFile(f.Credentials)
	cfgText, _ := os.ReadFile(f.Config)
	for _, leak := range []string{"AKIAUSERCREDS", "user-plat-prod", "user-default", "source_profile"} {
		if strings.Contains(string(credText)+string(cfgText), leak) {
			t.Errorf("a user profile named like ours was carried over (%s):\n%s\n%s", leak, credText, cfgText)
		}
	}
	for _, want := range []string{"[mine]", "[profile legacy]", "[sso-session plat-prod]"} {
		if !strings.Contains(string(credText)+string(cfgText), want) {
			t.Errorf("non-colliding section %s was dropped:\n%s\n%s", want, credText, cfgText)
		}
	}
	for name, key := range map[string]string{"default": "ASIAOURS000000000001", "plat-prod": "ASIAOURS000000000002"} {
		if sc := loadProfile(t, f, name); sc.Credentials.AccessKeyID != key || sc.RoleARN != "" || sc.SourceProfileName != "" {
			t.Errorf("%s = %+v; want ours alone", name, sc)
		}
	}
}

func TestWriteProfilesRejectsBadValues(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]*authflow.Credentials{
		"newline in secret": creds("ASIAX", "abc\n[evil]", "tok", ""),
		"comment in token":  creds("ASIAX", "abc", "tok;rm", ""),
		"empty key id":      creds("", "abc", "", ""),
		"bad region":        creds("ASIAX", "abc", "", "us-east-1\n[x]"),
	} {
		t.Run(name, func(t *testing.T) {
			res := &authflow.Results{Primary: "p", Order: []string{"p"}, Profiles: map[string]*authflow.Credentials{"p": c}}
			dir := t.TempDir()
			_, err := authflow.WriteProfiles(dir, res, false, nil)
			if err == nil {
				t.Fatal("WriteProfiles accepted a value outside [A-Za-z0-9/+=]")
			}
			for _, s := range []string{"[evil]", "tok;rm"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the value", err)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written despite the error: %v", entries)
			}
		})
	}
	res := &authflow.Results{Primary: "a]b", Order: []string{"a]b"}, Profiles: map[string]*authflow.Credentials{"a]b": creds("ASIAX", "s", "", "")}}
	if _, err := authflow.WriteProfiles(t.TempDir(), res, false, nil); err == nil {
		t.Error("WriteProfiles accepted profile name a]b")
	}
}

func TestWriteProfilesMissingDir(t *testing.T) {
	t.Parallel()
	res := &authflow.Results{Primary: "p", Order: []string{"p"}, Profiles: map[string]*authflow.Credentials{"p": creds("ASIAX", "s", "", "")}}
	_, err := authflow.WriteProfiles(filepath.Join(t.TempDir(), "missing"), res, false, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteProfiles error = %v; want ErrNotExist", err)
	}
}
