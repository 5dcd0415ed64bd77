// Package ec2fake is a fake EC2 endpoint for tests. It speaks the EC2
// Query API as AWS documents it, for the one action nix-hive uses:
// DescribeInstances (POST form Action=DescribeInstances&Version=2016-11-15
// with Filter.N.Name/Filter.N.Value.M, InstanceId.N, MaxResults and
// NextToken), answering with a DescribeInstancesResponse XML document,
// paginated with NextToken.
//
// Every request must carry a SigV4 Authorization header for the ec2
// service; with [Options.Credentials] set the fake also checks the access
// key id and the signature itself. Errors come back as EC2 does it
// (<Response><Errors><Error><Code>AuthFailure</Code>...). Any other
// action, version, parameter or method fails the test. The fake records
// every request so that tests can count paginations.
package ec2fake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// APIVersion is the EC2 API version the fake speaks.
const APIVersion = "2016-11-15"

// Instance is an EC2 instance the fake lists.
type Instance struct {
	// ID is the instance id ("i-0123456789abcdef0").
	ID string
	// ReservationID groups instances into reservations; empty gives the
	// instance a reservation of its own.
	ReservationID string
	// State is the instance-state-name; empty means "running".
	State string
	// PrivateIP, PublicIP, PrivateDNS and PublicDNS are its addresses
	// (privateIpAddress, ipAddress, privateDnsName, dnsName).
	PrivateIP, PublicIP, PrivateDNS, PublicDNS string
	// Tags are its tags.
	Tags map[string]string
}

// Options configure a [Server].
type Options struct {
	// PageSize caps the instances per page (DescribeInstances' MaxResults
	// caps it too); 0 means no cap of the fake's own.
	PageSize int
	// Credentials maps access key ids to secret keys. When set, requests
	// signed with another key id, or whose signature does not verify, get
	// AuthFailure. When nil any well-formed Authorization header passes.
	Credentials map[string]string
	// Denied lists access key ids whose requests are authenticated but
	// answered UnauthorizedOperation, as for a role without
	// ec2:DescribeInstances.
	Denied []string
}

// Request is a request the fake received.
type Request struct {
	// Action is the form's Action.
	Action string
	// Form is the whole form.
	Form url.Values
	// AccessKeyID and Region come from the Authorization header's
	// credential scope (empty without one).
	AccessKeyID, Region string
	// Status is the HTTP status the fake answered with.
	Status int
}

// Server is a running fake EC2 endpoint.
type Server struct {
	// URL is the endpoint, for AWS_ENDPOINT_URL_EC2.
	URL string

	t         testing.TB
	opts      Options
	mu        sync.Mutex
	instances []Instance
	requests  []Request
	tokens    map[string]pageToken
	nextToken int
	requestID int
}

// pageToken remembers where a pagination stopped and for which query.
type pageToken struct {
	offset int
	query  string
}

// New starts a fake endpoint listing instances, closed when the test ends.
func New(t testing.TB, instances []Instance, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, instances: instances, tokens: map[string]pageToken{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Paginations counts the DescribeInstances paginations started: the
// requests without a NextToken.
func (s *Server) Paginations() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Action == "DescribeInstances" && r.Form.Get("NextToken") == "" {
			n++
		}
	}
	return n
}

// apiError is an error EC2 answers with.
type apiError struct {
	status        int
	code, message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestID++
	requestID := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.requestID)
	rec := Request{}
	status, body := s.handle(r, &rec, requestID)
	rec.Status = status
	s.requests = append(s.requests, rec)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// handle answers one request: the status and the XML body.
func (s *Server) handle(r *http.Request, rec *Request, requestID string) (int, []byte) {
	fail := func(e apiError) (int, []byte) { return e.status, errorXML(e, requestID) }
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		s.t.Errorf("ec2fake: unexpected %s %s (the EC2 Query API is POST /)", r.Method, r.URL.Path)
		return fail(apiError{http.StatusBadRequest, "InvalidAction", "only POST / is supported"})
	}
	body, err := readBody(r)
	if err != nil {
		s.t.Errorf("ec2fake: read the request: %v", err)
		return fail(apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Errorf("ec2fake: parse the form: %v", err)
		return fail(apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
	}
	rec.Action, rec.Form = form.Get("Action"), form
	if e := s.authenticate(r, body, rec); e != nil {
		return fail(*e)
	}
	if slices.Contains(s.opts.Denied, rec.AccessKeyID) {
		return fail(apiError{http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation."})
	}
	if rec.Action != "DescribeInstances" {
		s.t.Errorf("ec2fake: unexpected action %q", rec.Action)
		return fail(apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", rec.Action)})
	}
	if v := form.Get("Version"); v != APIVersion {
		s.t.Errorf("ec2fake: unexpected API version %q", v)
		return fail(apiError{http.StatusBadRequest, "InvalidParameterValue", "unsupported Version " + v})
	}
	resp, e := s.describeInstances(form, requestID)
	if e != nil {
		return fail(*e)
	}
	out, err := xml.Marshal(resp)
	if err != nil {
		s.t.Errorf("ec2fake: %v", err)
		return fail(apiError{http.StatusInternalServerError, "InternalError", err.Error()})
	}
	return http.StatusOK, out
}

// errorXML is EC2's error document.
func errorXML(e apiError, requestID string) []byte {
	type xmlError struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	doc := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []xmlError `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}{Errors: []xmlError{{e.code, e.message}}, RequestID: requestID}
	out, _ := xml.Marshal(doc)
	return out
}

// Setenv points the AWS SDK's standard configuration at the fake for the
// rest of the test, as a deployment's environment would point it at EC2:
// AWS_ENDPOINT_URL_EC2, the static credentials keyID and secret, one
// attempt per request, and nothing that could reach the instance metadata
// service, a container credential endpoint, a web identity or the user's
// own AWS files. The SDK reads the process environment, hence t.Setenv
// (so not for parallel tests); the variables are returned as KEY=VALUE
// too.
func (s *Server) Setenv(t testing.TB, keyID, secret string) []string {
	t.Helper()
	dir := t.TempDir()
	vars := [][2]string{
		{"AWS_ENDPOINT_URL_EC2", s.URL}, {"AWS_ENDPOINT_URL", ""},
		{"AWS_ACCESS_KEY_ID", keyID}, {"AWS_SECRET_ACCESS_KEY", secret}, {"AWS_SESSION_TOKEN", ""},
		{"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_MAX_ATTEMPTS", "1"}, {"AWS_CA_BUNDLE", ""},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""}, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""},
		{"AWS_PROFILE", ""}, {"AWS_CONFIG_FILE", dir + "/config"}, {"AWS_SHARED_CREDENTIALS_FILE", dir + "/credentials"},
		{"AWS_ROLE_ARN", ""}, {"AWS_WEB_IDENTITY_TOKEN_FILE", ""},
	}
	out := make([]string, 0, len(vars))
	for _, kv := range vars {
		t.Setenv(kv[0], kv[1])
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}
