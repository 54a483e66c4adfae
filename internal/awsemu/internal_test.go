package awsemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testRole   = "arn:aws:iam::111111111111:role/hub"
	testUser   = "arn:aws:iam::999999999999:user/ci"
	testKeyID  = "AKIATESTTESTTEST0001"
	testSecret = "test/secret/0000000000000000000000000000"
)

func startInternal(t *testing.T) *Emulator {
	t.Helper()
	e, err := Start(Config{
		Roles:   []Role{{ARN: testRole, TrustOIDCSubjects: []string{"repo:example/*"}, TrustPrincipals: []string{"*"}}},
		Users:   []User{{ARN: testUser, AccessKeyID: testKeyID, SecretAccessKey: testSecret}},
		Buckets: []Bucket{{Name: "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// chunkedBody builds an aws-chunked body by the SigV4 streaming spec,
// seeded with the signature of the request's Authorization header.
func chunkedBody(t *testing.T, req *http.Request, secret string, chunks [][]byte, signed bool, trailer string) []byte {
	t.Helper()
	sig, aerr := parseSigV4(req, s3AuthErrors)
	if aerr != nil {
		t.Fatal(aerr)
	}
	key := signingKey(secret, sig.date, sig.region, sig.service)
	prev := sig.signature
	var b bytes.Buffer
	for _, c := range append(chunks, nil) {
		fmt.Fprintf(&b, "%x", len(c))
		if signed {
			sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + sig.rawAmzDate + "\n" + sig.scope() + "\n" + prev + "\n" + hexSHA256(nil) + "\n" + hexSHA256(c)
			prev = fmt.Sprintf("%x", hmacSHA256(key, sts))
			b.WriteString(";chunk-signature=" + prev)
		}
		b.WriteString("\r\n")
		b.Write(c)
		if len(c) > 0 {
			b.WriteString("\r\n")
		}
	}
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		if signed {
			sts := "AWS4-HMAC-SHA256-TRAILER\n" + sig.rawAmzDate + "\n" + sig.scope() + "\n" + prev + "\n" + hexSHA256([]byte(trailer+"\n"))
			fmt.Fprintf(&b, "x-amz-trailer-signature:%x\r\n", hmacSHA256(key, sts))
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func TestSignedChunkedUpload(t *testing.T) {
	e := startInternal(t)
	content := [][]byte{bytes.Repeat([]byte("x"), 65536), []byte("the end")}
	whole := bytes.Join(content, nil)
	sum := crc32.NewIEEE()
	sum.Write(whole)
	crc := base64.StdEncoding.EncodeToString(sum.Sum(nil))

	tests := []struct {
		name, mode, trailer string
		tamper              func([]byte) []byte
		wantStatus          int
	}{
		{"signed chunks", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", nil, 200},
		{"signed chunks and trailer", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-crc32:" + crc, nil, 200},
		{"unsigned chunks and trailer", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32:" + crc, nil, 200},
		{"wrong trailer checksum", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32:AAAAAA==", nil, 400},
		{"tampered chunk", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", func(b []byte) []byte { return bytes.Replace(b, []byte("the end"), []byte("the End"), 1) }, 403},
		{"truncated body", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", func(b []byte) []byte { return b[:len(b)/2] }, 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := e.S3URL() + "/b/obj" + strconv.Itoa(i)
			req, _ := http.NewRequest(http.MethodPut, url, nil)
			req.Header.Set("Content-Encoding", "aws-chunked")
			req.Header.Set("X-Amz-Content-Sha256", tt.mode)
			req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(whole)))
			if tt.trailer != "" {
				req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			}
			creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, tt.mode, "s3", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			body := chunkedBody(t, req, testSecret, content, strings.Contains(tt.mode, "HMAC"), tt.trailer)
			if tt.tamper != nil {
				body = tt.tamper(body)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d: %s", resp.StatusCode, tt.wantStatus, msg)
			}
			if tt.wantStatus != 200 {
				return
			}
			get, _ := http.NewRequest(http.MethodGet, url, nil)
			get.Header.Set("X-Amz-Content-Sha256", hexSHA256(nil))
			_ = v4.NewSigner().SignHTTP(context.Background(), creds, get, hexSHA256(nil), "s3", "us-east-1", time.Now())
			resp, err = http.DefaultClient.Do(get)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(got, whole) {
				t.Errorf("stored %d bytes; want the %d decoded bytes", len(got), len(whole))
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding %q stored", ce)
			}
			if tt.trailer != "" && resp.Header.Get("X-Amz-Checksum-Crc32") != crc {
				t.Errorf("trailer checksum not kept: %q", resp.Header.Get("X-Amz-Checksum-Crc32"))
			}
		})
	}
}

func TestCRC64NVME(t *testing.T) {
	// The check value of CRC-64/NVME.
	if got := crc64.Checksum([]byte("123456789"), crc64.MakeTable(crc64NVMEPoly)); got != 0xae8b14860a799888 {
		t.Errorf("CRC-64/NVME check = %#x; want 0xae8b14860a799888", got)
	}
}

func TestStringLike(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:example/infra:*", "repo:example/infra:ref:refs/heads/main", true},
		{"repo:example/*:ref:refs/heads/main", "repo:example/infra:ref:refs/heads/main", true},
		{"repo:example/infra:*", "repo:example/infra2:ref:refs/heads/main", false},
		{"repo:example/infr?:*", "repo:example/infra:x", true},
		{"*", "", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := subjectTrusted([]string{tt.pattern}, tt.s); got != tt.want {
			t.Errorf("subjectTrusted(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"list-type=2&prefix=env%3A%2F", "list-type=2&prefix=env%3A%2F"},
		{"versioning", "versioning="},
		{"a=x+y&X-Amz-Signature=abc", "a=x%20y"},
		{"a=2&a=1", "a=1&a=2"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.raw); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q; want %q", tt.raw, got, tt.want)
		}
	}
}

func TestJWTTimeAndAlgorithmChecks(t *testing.T) {
	e := startInternal(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	base := func() jwt.MapClaims {
		now := time.Now()
		return jwt.MapClaims{"iss": e.OIDCURL(), "aud": "sts.amazonaws.com", "sub": "repo:example/x",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	sign := func(m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"valid", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, base()), ""},
		{"expired", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, with("exp", time.Now().Add(-time.Minute).Unix())), "Token expired"},
		{"no exp", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, without("exp")), "Token is malformed or invalid"},
		{"not yet valid", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, with("nbf", time.Now().Add(time.Hour).Unix())), "Token is not yet valid"},
		{"issued in the future", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, with("iat", time.Now().Add(time.Hour).Unix())), "Token is not yet valid"},
		{"wrong issuer", sign(jwt.SigningMethodRS256, e.signingKey, e.keyID, with("iss", "https://token.actions.githubusercontent.com")), "Token issuer is not trusted"},
		{"other key, same kid", sign(jwt.SigningMethodRS256, otherKey, e.keyID, base()), "Token signature is invalid"},
		{"unknown kid", sign(jwt.SigningMethodRS256, e.signingKey, "other", base()), "Token signature is invalid"},
		{"HS256", sign(jwt.SigningMethodHS256, []byte("secret"), e.keyID, base()), "Token signature is invalid"},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, e.keyID, base()), "Token signature is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, msg := e.verifyJWT(tt.token)
			if msg != tt.want {
				t.Errorf("verifyJWT = %q; want %q", msg, tt.want)
			}
		})
	}
}
