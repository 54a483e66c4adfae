package authflow

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerIdentity is STS GetCallerIdentity's answer for a set of credentials.
type CallerIdentity struct {
	// Account is the AWS account ID.
	Account string
	// ARN is the calling principal, e.g. an assumed-role session ARN.
	ARN string
	// UserID is the principal's unique ID (for a role session,
	// "ROLEID:session-name").
	UserID string
}

// WhoAmI asks STS who c is: GetCallerIdentity signed with c, through the
// same isolated STS client as Run's AssumeRole steps (no shared files, no
// AWS_PROFILE; endpoint, retry and CA settings read through opts.Getenv).
// The call goes to c's region, else DefaultSTSRegion, within opts.Timeout
// (default DefaultTimeout). A failure's text has every secret redacted.
// Only Getenv, Timeout and Logger of opts are used.
func WhoAmI(ctx context.Context, c *Credentials, opts RunOptions) (*CallerIdentity, error) {
	if c == nil || c.AccessKeyID.Empty() || c.SecretAccessKey.Empty() {
		return nil, errors.New("get caller identity: no credentials")
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	red := newRedactor()
	red.add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	f := newSTSFactory(opts.Getenv, opts.Logger, red)
	region := firstNonEmpty(c.Region, DefaultSTSRegion)
	client, err := f.client(region, credentials.NewStaticCredentialsProvider(
		c.AccessKeyID.Reveal(), c.SecretAccessKey.Reveal(), c.SessionToken.Reveal()))
	if err != nil {
		return nil, red.wrap(err)
	}
	opts.Logger.Debug("get caller identity", "region", region, "endpoint", f.describeEndpoint(region))
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, red.wrap(stsError("get caller identity", err))
	}
	return &CallerIdentity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}, nil
}
