package awsemu_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tfauth/tfauth/internal/awsemu"
)

func TestS3RecordsSigner(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https with aws-chunked trailers"}[tls]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.S3TLS = tls
			e := startEmu(t, cfg)
			ctx := context.Background()
			hub := webIdentity(t, e, hubRole, "gha")
			spoke := assumeRole(t, e, static(hub.Credentials), spokeRole, "tf")
			spokeARN := aws.ToString(spoke.AssumedRoleUser.Arn)
			rc := &recordingClient{inner: e.S3HTTPClient()}
			c := s3Client(e, static(spoke.Credentials), rc)

			content := strings.Repeat("terraform state ", 5000) // > one 64 KiB chunk
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(stateBucket), Key: aws.String("env/prod/terraform.tfstate"),
				Body: strings.NewReader(content), ContentType: aws.String("application/json"),
			}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if tls {
				// Prove this subtest exercises the aws-chunked decoder.
				if got := rc.reqs[0].Get("X-Amz-Content-Sha256"); !strings.HasPrefix(got, "STREAMING-") {
					t.Fatalf("PutObject over TLS sent x-amz-content-sha256 %q; want a STREAMING-… payload; headers %v", got, rc.reqs[0])
				}
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String("env/prod/terraform.tfstate")})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			body, _ := io.ReadAll(get.Body)
			get.Body.Close()
			if string(body) != content {
				t.Errorf("GetObject returned %d bytes; want the %d bytes put", len(body), len(content))
			}
			if aws.ToString(get.ContentEncoding) != "" {
				t.Errorf("stored Content-Encoding %q; aws-chunked must not be stored", aws.ToString(get.ContentEncoding))
			}
			seed, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String("seed/hello.txt")})
			if err != nil {
				t.Fatalf("GetObject seeded: %v", err)
			}
			body, _ = io.ReadAll(seed.Body)
			seed.Body.Close()
			if string(body) != "hello from the seed" {
				t.Errorf("seeded object = %q", body)
			}
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(stateBucket)})
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			var keys []string
			for _, o := range list.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			if diff := cmp.Diff([]string{"env/prod/terraform.tfstate", "seed/hello.txt"}, keys); diff != "" {
				t.Errorf("listed keys (-want +got):\n%s", diff)
			}

			want := []awsemu.S3Request{
				{Method: "PUT", Bucket: stateBucket, Key: "env/prod/terraform.tfstate", Operation: "PutObject", PrincipalARN: spokeARN, Status: 200},
				{Method: "GET", Bucket: stateBucket, Key: "env/prod/terraform.tfstate", Operation: "GetObject", PrincipalARN: spokeARN, Status: 200},
				{Method: "GET", Bucket: stateBucket, Key: "seed/hello.txt", Operation: "GetObject", PrincipalARN: spokeARN, Status: 200},
				{Method: "GET", Bucket: stateBucket, Operation: "ListObjectsV2", PrincipalARN: spokeARN, Status: 200},
			}
			got := e.S3Requests()
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(awsemu.S3Request{}, "Time", "AccessKeyID")); diff != "" {
				t.Errorf("S3Requests (-want +got):\n%s", diff)
			}
			for _, r := range got {
				if r.AccessKeyID != aws.ToString(spoke.Credentials.AccessKeyId) {
					t.Errorf("AccessKeyID %q; want the spoke session's", r.AccessKeyID)
				}
			}
			// No secret (e.g. the session token, which gofakes3 would keep as
			// x-amz metadata) comes back in a response header.
			for _, h := range rc.resps {
				for name, vals := range h {
					for _, s := range e.Secrets() {
						if strings.Contains(strings.Join(vals, ","), s) {
							t.Errorf("response header %s carries a secret", name)
						}
					}
				}
			}
		})
	}
}

func TestS3RejectsBadRequests(t *testing.T) {
	e := startEmu(t, testConfig())
	hub := webIdentity(t, e, hubRole, "gha").Credentials
	expired := webIdentity(t, e, hubRole, "old").Credentials
	e.ExpireSession(*expired.AccessKeyId)
	key := e.S3URL() + "/" + stateBucket + "/seed/hello.txt"

	signed := func(method, url, body, payloadHash string, creds aws.Credentials) *http.Request {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	good := aws.Credentials{AccessKeyID: *hub.AccessKeyId, SecretAccessKey: *hub.SecretAccessKey, SessionToken: *hub.SessionToken}
	badSecret := good
	badSecret.SecretAccessKey = strings.Repeat("x", 40)
	badToken := good
	badToken.SessionToken = "IQoJforged"
	old := aws.Credentials{AccessKeyID: *expired.AccessKeyId, SecretAccessKey: *expired.SecretAccessKey, SessionToken: *expired.SessionToken}
	user := aws.Credentials{AccessKeyID: ciKeyID, SecretAccessKey: ciSecret}
	stsScoped := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, key, nil)
		req.Header.Set("X-Amz-Content-Sha256", sum(""))
		_ = v4.NewSigner().SignHTTP(context.Background(), good, req, sum(""), "sts", "us-east-1", time.Now())
		return req
	}

	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantCode   string
		wantARN    string
	}{
		{"signed GET", signed("GET", key, "", sum(""), good), 200, "", "arn:aws:sts::111111111111:assumed-role/hub/gha"},
		{"static user", signed("GET", key, "", sum(""), user), 200, "", ciUser},
		{"unsigned GET", func() *http.Request { r, _ := http.NewRequest("GET", key, nil); return r }(), 403, "AccessDenied", ""},
		{"wrong secret", signed("GET", key, "", sum(""), badSecret), 403, "SignatureDoesNotMatch", ""},
		{"wrong session token", signed("GET", key, "", sum(""), badToken), 400, "InvalidToken", ""},
		{"expired session", signed("GET", key, "", sum(""), old), 400, "ExpiredToken", ""},
		{"unknown key", signed("GET", key, "", sum(""), aws.Credentials{AccessKeyID: "AKIANOBODY000000000", SecretAccessKey: ciSecret}), 403, "InvalidAccessKeyId", ""},
		{"scope for another service", stsScoped(), 400, "AuthorizationHeaderMalformed", ""},
		{"payload hash mismatch", signed("PUT", key, "tampered body", sum("original body"), good), 400, "XAmzContentSHA256Mismatch", ""},
		{"unsigned payload accepted", signed("PUT", e.S3URL()+"/"+stateBucket+"/u", "abc", "UNSIGNED-PAYLOAD", good), 200, "", "arn:aws:sts::111111111111:assumed-role/hub/gha"},
		{"bad checksum", func() *http.Request {
			r := signed("PUT", e.S3URL()+"/"+stateBucket+"/c", "abc", sum("abc"), good)
			r.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==") // not signed, but checked
			return r
		}(), 400, "BadDigest", ""},
		{"tampered after signing", func() *http.Request {
			r := signed("GET", key, "", sum(""), good)
			r.URL.Path = "/" + stateBucket + "/other"
			return r
		}(), 403, "SignatureDoesNotMatch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.S3Requests())
			resp, err := http.DefaultClient.Do(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantCode != "" && !bytes.Contains(body, []byte("<Code>"+tt.wantCode+"</Code>")) {
				t.Errorf("body %s; want code %s", body, tt.wantCode)
			}
			for _, s := range e.Secrets() {
				if bytes.Contains(body, []byte(s)) {
					t.Errorf("error body carries a secret")
				}
			}
			reqs := e.S3Requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests recorded; want 1", len(reqs)-before)
			}
			if r := reqs[before]; r.PrincipalARN != tt.wantARN || r.Status != tt.wantStatus {
				t.Errorf("recorded principal %q status %d; want %q %d", r.PrincipalARN, r.Status, tt.wantARN, tt.wantStatus)
			}
		})
	}
}

func TestS3PresignedURL(t *testing.T) {
	e := startEmu(t, testConfig())
	spoke := assumeRole(t, e, static(webIdentity(t, e, hubRole, "gha").Credentials), spokeRole, "presign")
	ps := s3.NewPresignClient(s3Client(e, static(spoke.Credentials), nil))
	req, err := ps.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String("seed/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		url    string
		status int
	}{
		{"as issued", req.URL, 200},
		{"tampered key", strings.Replace(req.URL, "hello.txt", "hello.txx", 1), 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && string(body) != "hello from the seed" {
				t.Errorf("body %q", body)
			}
		})
	}
	if got := e.S3Requests()[0].PrincipalARN; got != aws.ToString(spoke.AssumedRoleUser.Arn) {
		t.Errorf("presigned request signed by %q; want %q", got, aws.ToString(spoke.AssumedRoleUser.Arn))
	}
}

func TestS3MultipartAndDelete(t *testing.T) {
	e := startEmu(t, testConfig())
	ctx := context.Background()
	c := s3Client(e, credentials.NewStaticCredentialsProvider(ciKeyID, ciSecret, ""), nil)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("other"), Key: aws.String("big")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	part1 := bytes.Repeat([]byte("a"), 5<<20)
	part2 := []byte("tail")
	var parts []s3types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("other"), Key: aws.String("big"),
			UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("other"), Key: aws.String("big"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("other"), Key: aws.String("big")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if got, want := aws.ToInt64(head.ContentLength), int64(len(part1)+len(part2)); got != want {
		t.Errorf("size %d; want %d", got, want)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("other"), Key: aws.String("big")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	var ops []string
	for _, r := range e.S3Requests() {
		ops = append(ops, r.Operation)
		if r.PrincipalARN != ciUser {
			t.Errorf("%s signed by %q; want %q", r.Operation, r.PrincipalARN, ciUser)
		}
	}
	want := []string{"CreateMultipartUpload", "UploadPart", "UploadPart", "CompleteMultipartUpload", "HeadObject", "DeleteObject"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

func TestS3KeysNeedingEscapes(t *testing.T) {
	e := startEmu(t, testConfig())
	ctx := context.Background()
	c := s3Client(e, userCreds(), nil)
	for _, key := range []string{"env:/prod/terraform.tfstate", "with space+plus=eq/ünï~(x)*.tfstate", "a//double"} {
		t.Run(key, func(t *testing.T) {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String(key), Body: strings.NewReader(key)}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("other"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(b) != key {
				t.Errorf("content %q; want %q", b, key)
			}
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("other"), Prefix: aws.String(key[:4])})
			if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != key {
				t.Errorf("ListObjectsV2 prefix %q: %v %+v", key[:4], err, list)
			}
			reqs := e.S3Requests()
			if r := reqs[len(reqs)-2]; r.Key != key || r.PrincipalARN != ciUser {
				t.Errorf("recorded key %q by %q; want %q by %q", r.Key, r.PrincipalARN, key, ciUser)
			}
		})
	}
}
