package ec2fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	key    = "AKIDFAKETEST00000001"
	secret = "fake-secret"
)

// recorder is a testing.TB that records the fake's complaints instead of
// failing the test, to test that it complains.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func fleet() []Instance {
	return []Instance{
		{ID: "i-01", ReservationID: "r-a", PrivateIP: "10.0.0.1", PublicIP: "192.0.2.1", PrivateDNS: "ip-10-0-0-1.internal", PublicDNS: "a.example.com",
			Tags: map[string]string{"Name": "web-1", "env": "prod", "role": "web"}},
		{ID: "i-02", ReservationID: "r-a", PrivateIP: "10.0.0.2", Tags: map[string]string{"Name": "web-2", "env": "prod", "role": "web"}},
		{ID: "i-03", PrivateIP: "10.0.0.3", Tags: map[string]string{"Name": "db-1", "env": "prod", "role": "db"}},
		{ID: "i-04", PrivateIP: "10.0.0.4", Tags: map[string]string{"Name": "web-3", "env": "staging", "role": "web"}},
		{ID: "i-05", State: "stopped", PrivateIP: "10.0.0.5", Tags: map[string]string{"Name": "web-4", "env": "prod"}},
		{ID: "i-06", PrivateIP: "10.0.0.6"},
	}
}

// post sends a form, signed with the key and secret unless key is empty.
func post(t *testing.T, endpoint string, form url.Values, keyID, secretKey string) (int, []byte) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if keyID != "" {
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secretKey},
			req, hex.EncodeToString(sum[:]), "ec2", "eu-west-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func describe(params ...string) url.Values {
	form := url.Values{"Action": {"DescribeInstances"}, "Version": {APIVersion}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	return form
}

// response is the part of DescribeInstancesResponse the tests read.
type response struct {
	XMLName      xml.Name
	RequestID    string `xml:"requestId"`
	Reservations []struct {
		ID        string `xml:"reservationId"`
		Instances []struct {
			ID        string `xml:"instanceId"`
			State     string `xml:"instanceState>name"`
			PrivateIP string `xml:"privateIpAddress"`
			PublicIP  string `xml:"ipAddress"`
			DNS       string `xml:"dnsName"`
			Tags      []struct {
				Key   string `xml:"key"`
				Value string `xml:"value"`
			} `xml:"tagSet>item"`
		} `xml:"instancesSet>item"`
	} `xml:"reservationSet>item"`
	NextToken string `xml:"nextToken"`
}

func (r response) ids() []string {
	var out []string
	for _, res := range r.Reservations {
		for _, i := range res.Instances {
			out = append(out, i.ID)
		}
	}
	return out
}

func decode(t *testing.T, body []byte) response {
	t.Helper()
	var r response
	if err := xml.Unmarshal(body, &r); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return r
}

func TestDescribeInstancesResponse(t *testing.T) {
	s := New(t, fleet(), Options{Credentials: map[string]string{key: secret}})
	status, body := post(t, s.URL, describe("Filter.1.Name", "instance-id", "Filter.1.Value.1", "i-01"), key, secret)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	r := decode(t, body)
	if r.XMLName.Space != "http://ec2.amazonaws.com/doc/2016-11-15/" || r.XMLName.Local != "DescribeInstancesResponse" || r.RequestID == "" {
		t.Errorf("document %v with request id %q, want a DescribeInstancesResponse in EC2's namespace with one", r.XMLName, r.RequestID)
	}
	if len(r.Reservations) != 1 || r.Reservations[0].ID != "r-a" || len(r.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations %+v, want r-a holding i-01", r.Reservations)
	}
	i := r.Reservations[0].Instances[0]
	if i.ID != "i-01" || i.State != "running" || i.PrivateIP != "10.0.0.1" || i.PublicIP != "192.0.2.1" || i.DNS != "a.example.com" ||
		len(i.Tags) != 3 || i.Tags[0].Key != "Name" || i.Tags[0].Value != "web-1" {
		t.Errorf("instance %+v", i)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].AccessKeyID != key || reqs[0].Region != "eu-west-1" || reqs[0].Status != 200 {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestFilters(t *testing.T) {
	s := New(t, fleet(), Options{})
	tests := []struct {
		name   string
		params []string
		want   []string
	}{
		{"none", nil, []string{"i-01", "i-02", "i-03", "i-04", "i-05", "i-06"}},
		{"tag value", []string{"Filter.1.Name", "tag:env", "Filter.1.Value.1", "prod"}, []string{"i-01", "i-02", "i-03", "i-05"}},
		{"values are alternatives", []string{"Filter.1.Name", "tag:Name", "Filter.1.Value.1", "db-1", "Filter.1.Value.2", "web-3"}, []string{"i-03", "i-04"}},
		{"filters all apply", []string{"Filter.1.Name", "tag:env", "Filter.1.Value.1", "prod", "Filter.2.Name", "instance-state-name", "Filter.2.Value.1", "running",
			"Filter.3.Name", "tag:role", "Filter.3.Value.1", "web"}, []string{"i-01", "i-02"}},
		{"wildcard", []string{"Filter.1.Name", "tag:Name", "Filter.1.Value.1", "web-*"}, []string{"i-01", "i-02", "i-04", "i-05"}},
		{"tag-key", []string{"Filter.1.Name", "tag-key", "Filter.1.Value.1", "role"}, []string{"i-01", "i-02", "i-03", "i-04"}},
		{"tag-value", []string{"Filter.1.Name", "tag-value", "Filter.1.Value.1", "staging"}, []string{"i-04"}},
		{"stopped", []string{"Filter.1.Name", "instance-state-name", "Filter.1.Value.1", "stopped"}, []string{"i-05"}},
		{"instance ids", []string{"InstanceId.1", "i-02", "InstanceId.2", "i-06"}, []string{"i-02", "i-06"}},
		{"no match", []string{"Filter.1.Name", "tag:env", "Filter.1.Value.1", "dev"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, s.URL, describe(tt.params...), key, secret)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := decode(t, body).ids(); !slices.Equal(got, tt.want) {
				t.Errorf("instances %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	s := New(t, fleet(), Options{PageSize: 2})
	var all []string
	token := ""
	for pages := 1; ; pages++ {
		params := []string{"MaxResults", "5", "Filter.1.Name", "instance-state-name", "Filter.1.Value.1", "running"}
		if token != "" {
			params = append(params, "NextToken", token)
		}
		status, body := post(t, s.URL, describe(params...), key, secret)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		r := decode(t, body)
		if len(r.ids()) > 2 {
			t.Errorf("page %d holds %d instances, want at most 2", pages, len(r.ids()))
		}
		all = append(all, r.ids()...)
		if token = r.NextToken; token == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if want := []string{"i-01", "i-02", "i-03", "i-04", "i-06"}; !slices.Equal(all, want) {
		t.Errorf("instances %v, want %v", all, want)
	}
	if s.Paginations() != 1 || len(s.Requests()) != 3 {
		t.Errorf("%d paginations in %d requests, want 1 in 3", s.Paginations(), len(s.Requests()))
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		form       url.Values
		key, sec   string
		status     int
		code, text string
	}{
		{"no Authorization", describe(), "", "", 401, "AuthFailure", "Authorization header"},
		{"unknown key", describe(), "AKIDUNKNOWN", secret, 401, "AuthFailure", "not able to validate"},
		{"wrong secret", describe(), key, "wrong", 401, "AuthFailure", "not able to validate"},
		{"denied", describe(), "AKIDDENIED", secret, 403, "UnauthorizedOperation", "not authorized"},
		{"unknown filter", describe("Filter.1.Name", "vpc-idd", "Filter.1.Value.1", "x"), key, secret, 400, "InvalidParameterValue", "The filter 'vpc-idd' is invalid"},
		{"MaxResults too small", describe("MaxResults", "3"), key, secret, 400, "InvalidParameterValue", "maxResults"},
		{"unknown NextToken", describe("NextToken", "nope"), key, secret, 400, "InvalidParameterValue", "NextToken"},
		{"dry run", describe("DryRun", "true"), key, secret, 412, "DryRunOperation", "DryRun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, fleet(), Options{Credentials: map[string]string{key: secret, "AKIDDENIED": secret}, Denied: []string{"AKIDDENIED"}})
			status, body := post(t, s.URL, tt.form, tt.key, tt.sec)
			var doc struct {
				XMLName xml.Name `xml:"Response"`
				Code    string   `xml:"Errors>Error>Code"`
				Message string   `xml:"Errors>Error>Message"`
				ID      string   `xml:"RequestID"`
			}
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("%v in %s", err, body)
			}
			if status != tt.status || doc.Code != tt.code || !strings.Contains(doc.Message, tt.text) || doc.ID == "" {
				t.Errorf("%d %s %q (request %q), want %d %s saying %q", status, doc.Code, doc.Message, doc.ID, tt.status, tt.code, tt.text)
			}
		})
	}
}

func TestNextTokenBelongsToItsQuery(t *testing.T) {
	s := New(t, fleet(), Options{PageSize: 1})
	_, body := post(t, s.URL, describe("Filter.1.Name", "tag:env", "Filter.1.Value.1", "prod"), key, secret)
	token := decode(t, body).NextToken
	if token == "" {
		t.Fatal("no NextToken with a page size of 1")
	}
	status, _ := post(t, s.URL, describe("Filter.1.Name", "tag:env", "Filter.1.Value.1", "staging", "NextToken", token), key, secret)
	if status != http.StatusBadRequest {
		t.Errorf("a NextToken used with another query gave %d, want 400", status)
	}
}

func TestUnexpectedRequestsFailTheTest(t *testing.T) {
	tests := []struct {
		name string
		send func(s *Server)
		want string
	}{
		{"another action", func(s *Server) {
			post(t, s.URL, url.Values{"Action": {"RunInstances"}, "Version": {APIVersion}}, key, secret)
		}, `unexpected action "RunInstances"`},
		{"another version", func(s *Server) {
			post(t, s.URL, url.Values{"Action": {"DescribeInstances"}, "Version": {"2014-01-01"}}, key, secret)
		}, `unexpected API version "2014-01-01"`},
		{"an unknown parameter", func(s *Server) { post(t, s.URL, describe("Owner", "me"), key, secret) },
			`unexpected DescribeInstances parameter Owner="me"`},
		{"a GET", func(s *Server) {
			resp, err := http.Get(s.URL + "/?Action=DescribeInstances")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}, "unexpected GET /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := New(rec, fleet(), Options{})
			tt.send(s)
			if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], tt.want) {
				t.Errorf("the fake reported %q, want %q", rec.errs, tt.want)
			}
		})
	}
}
