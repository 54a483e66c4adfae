package awsemu

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxS3Body bounds a request body the emulator buffers.
const maxS3Body = 128 << 20

// crc64NVMEPoly is the reversed CRC-64/NVME polynomial (0xad93d23594c935a9).
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

// s3Error is an S3 error reply.
type s3Error struct {
	status  int
	code    string
	message string
}

func (e *Emulator) s3Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key := splitBucketKey(r.URL.Path)
		rec := S3Request{Time: time.Now(), Method: r.Method, Bucket: bucket, Key: key, Operation: s3Operation(r, bucket, key)}
		payload := r.Header.Get("X-Amz-Content-Sha256")
		if len(payload) == 64 {
			payload = "sha256"
		}
		sw := &s3ResponseWriter{ResponseWriter: w, status: http.StatusOK, ranged: r.Header.Get("Range") != ""}
		defer func() {
			rec.Status = sw.status
			e.recordS3(rec)
			e.log.Debug("s3 request", "method", rec.Method, "bucket", rec.Bucket, "key", rec.Key,
				"operation", rec.Operation, "payload", payload, "principal", rec.PrincipalARN, "status", rec.Status)
		}()
		p, serr := e.prepareS3(r)
		if p != nil {
			rec.AccessKeyID = p.accessKeyID
		}
		if serr != nil {
			writeS3Error(sw, r, serr)
			return
		}
		rec.PrincipalARN = p.arn
		next.ServeHTTP(sw, r)
	})
}

// prepareS3 authenticates r and rewrites its body and headers into the
// plain form gofakes3 understands: aws-chunked bodies are decoded, checked
// checksums kept, and signing headers (including the session token, which
// gofakes3 would otherwise store as object metadata) removed.
func (e *Emulator) prepareS3(r *http.Request) (*principal, *s3Error) {
	contentSHA := r.Header.Get("X-Amz-Content-Sha256")
	presigned := r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Algorithm") != ""
	if contentSHA == "" && !presigned && r.Header.Get("Authorization") != "" {
		return nil, &s3Error{http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"}
	}
	p, sig, key, aerr := e.authenticate(r, "s3", contentSHA, s3AuthErrors)
	if aerr != nil {
		return p, &s3Error{aerr.status, aerr.code, aerr.message}
	}

	var body []byte
	trailers := http.Header{}
	switch {
	case strings.HasPrefix(contentSHA, "STREAMING-"):
		var signed, withTrailer bool
		switch contentSHA {
		case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
			signed = true
		case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
			signed, withTrailer = true, true
		case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
			withTrailer = true
		default:
			return p, &s3Error{http.StatusBadRequest, "InvalidRequest", "unsupported x-amz-content-sha256 value"}
		}
		var err error
		body, err = decodeAWSChunked(io.LimitReader(r.Body, maxS3Body), signed, withTrailer, sig, key, trailers)
		if errors.Is(err, errChunkSignature) {
			return p, &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided."}
		}
		if err != nil {
			return p, &s3Error{http.StatusBadRequest, "IncompleteBody", "cannot decode aws-chunked body: " + err.Error()}
		}
		if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(len(body)) {
			return p, &s3Error{http.StatusBadRequest, "IncompleteBody", "decoded body length does not match x-amz-decoded-content-length"}
		}
	default:
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxS3Body+1))
		if err != nil {
			return p, &s3Error{http.StatusBadRequest, "IncompleteBody", "cannot read body"}
		}
		if len(body) > maxS3Body {
			return p, &s3Error{http.StatusBadRequest, "EntityTooLarge", "the emulator buffers at most 128 MiB"}
		}
		if contentSHA != "" && contentSHA != unsignedPayload && contentSHA != hexSHA256(body) {
			return p, &s3Error{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	_ = r.Body.Close()

	for name, vals := range trailers {
		r.Header[name] = vals
	}
	if serr := checkChecksums(r.Header, body); serr != nil {
		return p, serr
	}
	cleanS3Headers(r.Header)
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		r.TransferEncoding = nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return p, nil
}

// errChunkSignature reports a chunk or trailer signature mismatch.
var errChunkSignature = errors.New("chunk signature does not match")

// decodeAWSChunked decodes an aws-chunked body, checking chunk and trailer
// signatures when signed, and stores trailing headers in trailers.
func decodeAWSChunked(r io.Reader, signed, withTrailer bool, sig *sigV4, key []byte, trailers http.Header) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out bytes.Buffer
	prev := ""
	if sig != nil {
		prev = sig.signature
	}
	emptyHash := hexSHA256(nil)
	for {
		line, err := readCRLFLine(br)
		if err != nil {
			return nil, err
		}
		sizeHex, ext, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 || size > maxS3Body-int64(out.Len()) {
			return nil, errors.New("bad chunk size")
		}
		chunk := make([]byte, size)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, errors.New("truncated chunk")
		}
		if signed {
			chunkSig, ok := strings.CutPrefix(ext, "chunk-signature=")
			if !ok || sig == nil {
				return nil, errors.New("missing chunk signature")
			}
			sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + sig.rawAmzDate + "\n" + sig.scope() + "\n" + prev + "\n" + emptyHash + "\n" + hexSHA256(chunk)
			if !hexEqual(chunkSig, hmacSHA256(key, sts)) {
				return nil, errChunkSignature
			}
			prev = chunkSig
		}
		out.Write(chunk)
		if size == 0 {
			break
		}
		if l, err := readCRLFLine(br); err != nil || l != "" {
			return nil, errors.New("missing CRLF after chunk data")
		}
	}
	// After the last chunk: optional trailers, then an empty line.
	var trailerText strings.Builder
	trailerSig := ""
	for {
		line, err := readCRLFLine(br)
		if errors.Is(err, io.EOF) && line == "" {
			break // some clients end right after the last chunk
		}
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, errors.New("malformed trailer")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if name == "x-amz-trailer-signature" {
			trailerSig = val
			continue
		}
		if !withTrailer {
			return nil, errors.New("unexpected trailer")
		}
		trailerText.WriteString(name + ":" + val + "\n")
		trailers.Set(name, val)
	}
	if signed && withTrailer && trailerText.Len() > 0 {
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + sig.rawAmzDate + "\n" + sig.scope() + "\n" + prev + "\n" + hexSHA256([]byte(trailerText.String()))
		if !hexEqual(trailerSig, hmacSHA256(key, sts)) {
			return nil, errChunkSignature
		}
	}
	return out.Bytes(), nil
}

func readCRLFLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		frag, isPrefix, err := br.ReadLine()
		b.Write(frag)
		if err != nil {
			return b.String(), err
		}
		if b.Len() > 4096 {
			return "", errors.New("line too long")
		}
		if !isPrefix {
			return b.String(), nil
		}
	}
}

func hexEqual(hexSig string, want []byte) bool {
	got, err := hex.DecodeString(hexSig)
	return err == nil && hmac.Equal(got, want)
}

// checkChecksums verifies x-amz-checksum-* values against body.
func checkChecksums(h http.Header, body []byte) *s3Error {
	algs := map[string]func() hash.Hash{
		"Crc32":     func() hash.Hash { return crc32.NewIEEE() },
		"Crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
		"Crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(crc64NVMEPoly)) },
		"Sha1":      sha1.New,
		"Sha256":    sha256.New,
	}
	for name, newHash := range algs {
		v := h.Get("X-Amz-Checksum-" + name)
		if v == "" {
			continue
		}
		hh := newHash()
		hh.Write(body)
		if base64.StdEncoding.EncodeToString(hh.Sum(nil)) != v {
			return &s3Error{http.StatusBadRequest, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToUpper(name))}
		}
	}
	return nil
}

// keptAmzPrefixes and keptChecksums are the x-amz-* request headers passed
// on to gofakes3, which stores every x-amz-* header as object metadata.
var keptAmzPrefixes = []string{
	"X-Amz-Meta-", "X-Amz-Copy-Source", "X-Amz-Metadata-Directive", "X-Amz-Tagging",
	"X-Amz-Acl", "X-Amz-Storage-Class", "X-Amz-Server-Side-Encryption",
	"X-Amz-Website-Redirect-Location", "X-Amz-Grant-", "X-Amz-Object-Lock-",
}

var keptChecksums = map[string]bool{
	"X-Amz-Checksum-Crc32": true, "X-Amz-Checksum-Crc32c": true, "X-Amz-Checksum-Crc64nvme": true,
	"X-Amz-Checksum-Sha1": true, "X-Amz-Checksum-Sha256": true,
}

func cleanS3Headers(h http.Header) {
	h.Del("Authorization")
	for name := range h {
		if !strings.HasPrefix(name, "X-Amz-") || keptChecksums[name] {
			continue
		}
		keep := false
		for _, k := range keptAmzPrefixes {
			if strings.HasPrefix(name, k) {
				keep = true
				break
			}
		}
		if !keep {
			delete(h, name)
		}
	}
	// aws-chunked is a transfer detail, not the object's encoding.
	if ce := h.Values("Content-Encoding"); len(ce) > 0 {
		var kept []string
		for _, v := range ce {
			for _, tok := range strings.Split(v, ",") {
				if tok = strings.TrimSpace(tok); tok != "" && !strings.EqualFold(tok, "aws-chunked") {
					kept = append(kept, tok)
				}
			}
		}
		if len(kept) == 0 {
			h.Del("Content-Encoding")
		} else {
			h.Set("Content-Encoding", strings.Join(kept, ","))
		}
	}
}

// s3ResponseWriter records the status and drops whole-object checksums from
// ranged responses.
type s3ResponseWriter struct {
	http.ResponseWriter
	status      int
	ranged      bool
	wroteHeader bool
}

func (w *s3ResponseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = status
	if w.ranged {
		for name := range w.Header() {
			if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
				w.Header().Del(name)
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *s3ResponseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func writeS3Error(w http.ResponseWriter, r *http.Request, e *s3Error) {
	type errorXML struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		RequestID string   `xml:"RequestId"`
	}
	id := newRequestID()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	out, _ := xml.Marshal(errorXML{Code: e.code, Message: e.message, RequestID: id})
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}

// splitBucketKey splits a path-style URL path into bucket and key.
func splitBucketKey(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// s3Operation names the S3 operation of r, best effort.
func s3Operation(r *http.Request, bucket, key string) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	m := r.Method
	switch {
	case bucket == "":
		if m == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		switch {
		case m == http.MethodGet && q.Get("list-type") == "2":
			return "ListObjectsV2"
		case m == http.MethodGet && has("versions"):
			return "ListObjectVersions"
		case m == http.MethodGet && has("uploads"):
			return "ListMultipartUploads"
		case m == http.MethodGet && has("location"):
			return "GetBucketLocation"
		case m == http.MethodGet && has("versioning"):
			return "GetBucketVersioning"
		case m == http.MethodGet && len(q) == 0 || m == http.MethodGet && (has("prefix") || has("delimiter") || has("marker") || has("max-keys")):
			return "ListObjects"
		case m == http.MethodHead:
			return "HeadBucket"
		case m == http.MethodPut && len(q) == 0:
			return "CreateBucket"
		case m == http.MethodDelete && len(q) == 0:
			return "DeleteBucket"
		case m == http.MethodPost && has("delete"):
			return "DeleteObjects"
		}
		for k := range q {
			return map[string]string{http.MethodGet: "GetBucket", http.MethodPut: "PutBucket", http.MethodDelete: "DeleteBucket"}[m] + capitalize(k)
		}
	default:
		switch {
		case m == http.MethodPost && has("uploads"):
			return "CreateMultipartUpload"
		case m == http.MethodPut && has("partNumber"):
			return "UploadPart"
		case m == http.MethodPost && has("uploadId"):
			return "CompleteMultipartUpload"
		case m == http.MethodDelete && has("uploadId"):
			return "AbortMultipartUpload"
		case m == http.MethodGet && has("uploadId"):
			return "ListParts"
		case m == http.MethodGet && has("tagging"):
			return "GetObjectTagging"
		case m == http.MethodPut && has("tagging"):
			return "PutObjectTagging"
		case m == http.MethodGet:
			return "GetObject"
		case m == http.MethodHead:
			return "HeadObject"
		case m == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject"
		case m == http.MethodPut:
			return "PutObject"
		case m == http.MethodDelete:
			return "DeleteObject"
		}
	}
	return "Unknown"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
