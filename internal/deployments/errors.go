package deployments

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Errors callers may branch on with errors.Is.
var (
	// ErrNoPermission: the token may not write deployments.
	ErrNoPermission = errors.New("the token cannot write deployments: give the workflow `permissions: deployments: write`")
	// ErrAutoMerged: GitHub answered 202, merged the default branch into the
	// ref and created no deployment. nix-hive sends auto_merge: false, so
	// this should not happen.
	ErrAutoMerged = errors.New("GitHub merged the default branch into the ref instead of creating a deployment")
	// ErrConflict: GitHub answered 409, a merge conflict or failed required
	// status checks.
	ErrConflict = errors.New("GitHub refused the deployment: merging the default branch conflicts or required status checks failed")
)

// errNoActionsRead is the permission error of JobURL.
var errNoActionsRead = errors.New("the token cannot list the run's jobs: give the workflow `permissions: actions: read`")

// apiError is one of GitHub's answers phrased for a user. It unwraps to the
// sentinel it stands for, if any, and to go-github's error.
type apiError struct {
	msg   string
	kind  error
	cause error
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// describe turns a go-github error into a message a user can act on.
// noPermission is the sentinel for a 403 "Resource not accessible".
func describe(err error, noPermission error) error {
	var (
		accepted *github.AcceptedError
		abuse    *github.AbuseRateLimitError
		rate     *github.RateLimitError
		resp     *github.ErrorResponse
	)
	switch {
	case errors.As(err, &accepted):
		return &apiError{fmt.Sprintf("%v (GitHub answered 202 %s); nothing was recorded",
			ErrAutoMerged, acceptedMessage(accepted.Raw)), ErrAutoMerged, err}
	case errors.As(err, &abuse):
		return &apiError{"GitHub's secondary rate limit refused the request: " + abuse.Message, nil, err}
	case errors.As(err, &rate):
		return &apiError{fmt.Sprintf("GitHub's API rate limit is used up until %s: %s",
			rate.Rate.Reset.UTC().Format(time.RFC3339), rate.Message), nil, err}
	case errors.As(err, &resp) && resp.Response != nil:
		detail := answer(resp)
		switch code := resp.Response.StatusCode; {
		case code == http.StatusForbidden && strings.HasPrefix(resp.Message, "Resource not accessible"):
			return &apiError{fmt.Sprintf("%v (GitHub answered %s)", noPermission, detail), noPermission, err}
		case code == http.StatusConflict:
			return &apiError{fmt.Sprintf("%v (GitHub answered %s)", ErrConflict, detail), ErrConflict, err}
		case code == http.StatusUnauthorized:
			return &apiError{fmt.Sprintf("GitHub rejected the token (%s): check the token and its expiry", detail), nil, err}
		case code == http.StatusNotFound:
			return &apiError{fmt.Sprintf("GitHub found no such repository, deployment or run, or the token cannot see it (%s)", detail), nil, err}
		case code == http.StatusUnprocessableEntity:
			return &apiError{fmt.Sprintf("GitHub rejected the request (%s)", detail), nil, err}
		default:
			return &apiError{"GitHub answered " + detail, nil, err}
		}
	}
	return err
}

// answer renders GitHub's error body: "422 Validation Failed: ref missing_field".
func answer(resp *github.ErrorResponse) string {
	s := fmt.Sprintf("%d %s", resp.Response.StatusCode, resp.Message)
	var details []string
	for _, e := range resp.Errors {
		if e.Message != "" {
			details = append(details, e.Message)
		} else {
			details = append(details, strings.TrimSpace(e.Field+" "+e.Code))
		}
	}
	if len(details) > 0 {
		s += ": " + strings.Join(details, "; ")
	}
	return s
}

// acceptedMessage is the message of a 202 body, or the body itself.
func acceptedMessage(raw []byte) string {
	var body struct{ Message string }
	if err := json.Unmarshal(raw, &body); err == nil && body.Message != "" {
		return body.Message
	}
	return strings.TrimSpace(string(raw))
}
