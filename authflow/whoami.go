package authflow

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

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
// The call goes to c's region, else the STS region of c.ARN's partition
// (DefaultSTSRegion for commercial AWS or an unknown ARN), within
// opts.Timeout (default DefaultTimeout). A failure's text has every secret
// redacted. Only Getenv, Timeout and Logger of opts are used. To ask about
// several credentials, use one CallerChecker.
func WhoAmI(ctx context.Context, c *Credentials, opts RunOptions) (*CallerIdentity, error) {
	return NewCallerChecker(opts).WhoAmI(ctx, c)
}

// CallerChecker asks STS who credentials are, like WhoAmI, sharing one STS
// configuration across calls: the settings are read and the AWS_CA_BUNDLE
// pool is built once. It is safe for concurrent use.
type CallerChecker struct {
	timeout time.Duration
	log     *slog.Logger
	red     *redactor
	sts     *stsFactory
}

// NewCallerChecker reads the STS settings of opts (only Getenv, Timeout
// and Logger are used).
func NewCallerChecker(opts RunOptions) *CallerChecker {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	red := newRedactor()
	return &CallerChecker{
		timeout: opts.Timeout,
		log:     opts.Logger,
		red:     red,
		sts:     newSTSFactory(opts.Getenv, opts.Logger, red),
	}
}

// WhoAmI asks STS who c is; see the function WhoAmI.
func (k *CallerChecker) WhoAmI(ctx context.Context, c *Credentials) (*CallerIdentity, error) {
	if c == nil || c.AccessKeyID.Empty() || c.SecretAccessKey.Empty() {
		return nil, errors.New("get caller identity: no credentials")
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()

	k.red.add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	region := cmp.Or(c.Region, PartitionSTSRegion(c.ARN))
	client, err := k.sts.client(region, credentials.NewStaticCredentialsProvider(
		c.AccessKeyID.Reveal(), c.SecretAccessKey.Reveal(), c.SessionToken.Reveal()))
	if err != nil {
		return nil, k.red.wrap(err)
	}
	k.log.Debug("get caller identity", "region", region, "endpoint", k.sts.describeEndpoint(region))
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, k.red.wrap(stsError("get caller identity", err))
	}
	return &CallerIdentity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}, nil
}
