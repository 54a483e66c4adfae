package authflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
)

// ambient runs an aws/ambient step: whatever the AWS SDK's default chain
// finds where the wrapper runs (environment keys, web identity, the user's
// profile, SSO cache, container or instance credentials). This is the one
// step that lets the SDK read the process environment and shared files
// itself, since that is what "ambient" means.
func (r *runner) ambient(ctx context.Context, id *Identity) (*Credentials, error) {
	var opts []func(*config.LoadOptions) error
	if id.Region != "" {
		opts = append(opts, config.WithRegion(id.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS SDK's default configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("the AWS SDK's default chain found no credentials")
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve ambient credentials: %w", err)
	}
	creds := &Credentials{
		AccessKeyID:     NewSecret(c.AccessKeyID),
		SecretAccessKey: NewSecret(c.SecretAccessKey),
		SessionToken:    NewSecret(c.SessionToken),
		Region:          cfg.Region,
	}
	if c.CanExpire {
		creds.Expiration = c.Expires
	}
	r.log.Debug("ambient credentials found", "identity", id.Name, "source", c.Source, "region", cfg.Region)
	return creds, nil
}
