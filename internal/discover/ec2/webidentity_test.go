package ec2

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-hive/nix-hive/internal/ec2fake"
)

// TestWebIdentity takes the path GitHub's OIDC takes through
// aws-actions/configure-aws-credentials when it leaves the exchange to the
// SDK: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE. A fake STS trades the
// token for temporary credentials, and the fake EC2 endpoint verifies the
// signature made with them.
func TestWebIdentity(t *testing.T) {
	const (
		role  = "arn:aws:iam::123456789012:role/nix-hive-deploy"
		token = "eyJhbGciOiJSUzI1NiJ9.github-oidc-token.signature"
		tmpID = "ASIANIXHIVETEMP00001"
		tmpSK = "temporary-secret"
	)
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.Form.Get("Action") != "AssumeRoleWithWebIdentity" {
			t.Errorf("unexpected STS request %s %v", r.Method, r.Form)
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		if r.Form.Get("RoleArn") != role || r.Form.Get("WebIdentityToken") != token {
			t.Errorf("AssumeRoleWithWebIdentity for %q with token %q", r.Form.Get("RoleArn"), r.Form.Get("WebIdentityToken"))
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>` + tmpID + `</AccessKeyId>
      <SecretAccessKey>` + tmpSK + `</SecretAccessKey>
      <SessionToken>session-token-from-sts</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/nix-hive-deploy/gha</Arn>
      <AssumedRoleId>AROANIXHIVE:gha</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`))
	}))
	t.Cleanup(sts.Close)

	fake := ec2fake.New(t, fleet(), ec2fake.Options{Credentials: map[string]string{tmpID: tmpSK}})
	useFake(t, fake.URL, "", "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ROLE_ARN", role)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	t.Setenv("AWS_ROLE_SESSION_NAME", "gha")
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)

	machines, err := Reader{}.Machines(context.Background(), source(map[string][]string{"tag:env": {"prod"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(machines) != 5 {
		t.Errorf("%d machines, want 5", len(machines))
	}
	if r := fake.Requests(); len(r) != 1 || r[0].AccessKeyID != tmpID {
		t.Errorf("requests %+v, want one signed with the temporary key %s", r, tmpID)
	}
}
