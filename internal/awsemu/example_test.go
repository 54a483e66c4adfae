package awsemu_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tfauth/tfauth/internal/awsemu"
)

// Example shows a GitHub OIDC token exchanged for a role session, and the
// session identifying itself, with the real SDK pointed at the emulator.
func Example() {
	e, err := awsemu.Start(awsemu.Config{
		Roles: []awsemu.Role{{
			ARN:               "arn:aws:iam::111111111111:role/deploy",
			TrustOIDCSubjects: []string{"repo:example/infra:*"},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	ctx := context.Background()
	endpoint := func(o *sts.Options) { o.BaseEndpoint = aws.String(e.STSURL()) }

	token, _ := e.MintToken("sts.amazonaws.com", "")
	out, err := sts.NewFromConfig(aws.Config{Region: "us-east-1"}, endpoint).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName:  aws.String("ci"),
		WebIdentityToken: aws.String(token),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := out.Credentials
	creds := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	id, err := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds}, endpoint).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*id.Arn)
	fmt.Println(e.Calls()[1].CallerARN)
	// Output:
	// arn:aws:sts::111111111111:assumed-role/deploy/ci
	// arn:aws:sts::111111111111:assumed-role/deploy/ci
}
