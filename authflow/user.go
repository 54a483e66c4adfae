package authflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-sdk-go-v2/config"
)

// user runs an aws/user step: static keys from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN) or,
// when the identity names a profile, from that profile of the user's own
// shared files.
func (r *runner) user(ctx context.Context, id *Identity) (*Credentials, error) {
	if id.Profile == "" {
		return userFromEnv(id, r.getenv)
	}
	credsFile, configFile := userSharedFiles(r.getenv)
	sc, err := config.LoadSharedConfigProfile(ctx, id.Profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{credsFile}
		o.ConfigFiles = []string{configFile}
	})
	if err != nil {
		return nil, fmt.Errorf("load profile %q from %s and %s: %w", id.Profile, credsFile, configFile, err)
	}
	if sc.RoleARN != "" {
		return nil, fmt.Errorf("profile %q assumes role %s; declare that role as an aws/assume-role identity via this one, "+
			"and point aws/user at the profile holding the keys", id.Profile, sc.RoleARN)
	}
	if !sc.Credentials.HasKeys() {
		return nil, fmt.Errorf("profile %q has no aws_access_key_id and aws_secret_access_key; "+
			"for SSO or credential_process profiles use aws/ambient with AWS_PROFILE", id.Profile)
	}
	return &Credentials{
		AccessKeyID:     NewSecret(sc.Credentials.AccessKeyID),
		SecretAccessKey: NewSecret(sc.Credentials.SecretAccessKey),
		SessionToken:    NewSecret(sc.Credentials.SessionToken),
		Region:          cmp.Or(id.Region, sc.Region),
	}, nil
}

// userFromEnv reads static keys from the environment, with the SDK's
// fallback names AWS_ACCESS_KEY and AWS_SECRET_KEY.
func userFromEnv(id *Identity, getenv func(string) string) (*Credentials, error) {
	ak := cmp.Or(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_ACCESS_KEY"))
	sk := cmp.Or(getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SECRET_KEY"))
	if ak == "" || sk == "" {
		return nil, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; " +
			"export them, or name a profile of your own shared files in the identity's spec.profile")
	}
	return &Credentials{
		AccessKeyID:     NewSecret(ak),
		SecretAccessKey: NewSecret(sk),
		SessionToken:    NewSecret(getenv("AWS_SESSION_TOKEN")),
		Region:          cmp.Or(id.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
	}, nil
}

// userSharedFiles returns the user's own shared credentials and config
// files: $AWS_SHARED_CREDENTIALS_FILE and $AWS_CONFIG_FILE, else
// ~/.aws/credentials and ~/.aws/config, home read through getenv.
func userSharedFiles(getenv func(string) string) (credsFile, configFile string) {
	credsFile, configFile = getenv("AWS_SHARED_CREDENTIALS_FILE"), getenv("AWS_CONFIG_FILE")
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = cmp.Or(getenv("USERPROFILE"), home)
	}
	if credsFile == "" {
		credsFile = config.DefaultSharedCredentialsFilename()
		if home != "" {
			credsFile = filepath.Join(home, ".aws", "credentials")
		}
	}
	if configFile == "" {
		configFile = config.DefaultSharedConfigFilename()
		if home != "" {
			configFile = filepath.Join(home, ".aws", "config")
		}
	}
	return credsFile, configFile
}
