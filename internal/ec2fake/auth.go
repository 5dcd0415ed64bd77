package ec2fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// authorizationPattern is a SigV4 Authorization header.
var authorizationPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

// readBody reads a request's body, at most 1 MiB.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

// authenticate checks the request's SigV4 Authorization header, and with
// known credentials its signature, recording the key id and region.
func (s *Server) authenticate(r *http.Request, body []byte, rec *Request) *apiError {
	header := r.Header.Get("Authorization")
	if header == "" {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "The request must contain an AWS4-HMAC-SHA256 Authorization header."}
	}
	m := authorizationPattern.FindStringSubmatch(header)
	if m == nil {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "The Authorization header is not a valid AWS4-HMAC-SHA256 signature."}
	}
	keyID, day, region, service, signedHeaders, signature := m[1], m[2], m[3], m[4], m[5], m[6]
	rec.AccessKeyID, rec.Region = keyID, region
	if service != "ec2" {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "Credential should be scoped to correct service: 'ec2'."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signingTime, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, day) {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "X-Amz-Date is missing or does not match the credential scope."}
	}
	if !strings.Contains(";"+signedHeaders+";", ";host;") {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "The host header must be signed."}
	}
	if s.opts.Credentials == nil {
		return nil
	}
	secret, ok := s.opts.Credentials[keyID]
	if !ok {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}
	}
	want, err := sign(r, body, signedHeaders, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}, region, signingTime)
	if err != nil {
		s.t.Errorf("ec2fake: sign the request again: %v", err)
		return &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	if want != signature {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}
	}
	return nil
}

// sign signs a copy of the request holding only its signed headers, and
// returns the signature.
func sign(r *http.Request, body []byte, signedHeaders string, creds aws.Credentials, region string, at time.Time) (string, error) {
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.ContentLength = 0
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", region, at); err != nil {
		return "", err
	}
	m := authorizationPattern.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		return "", nil
	}
	return m[6], nil
}
