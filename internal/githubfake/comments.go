package githubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The issue-comment routes, as GitHub's REST API has them (a pull
// request's conversation comments are its issue's comments).
const (
	ListComments  = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
	CreateComment = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	UpdateComment = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
)

// commentsDoc is the documentation GitHub links in these routes' errors.
const commentsDoc = "https://docs.github.com/rest/issues/comments"

// Comment is the server's record of one issue comment.
type Comment struct {
	ID                   int64
	Owner, Repo          string
	Issue                int
	Body                 string
	User                 string
	CreatedAt, UpdatedAt time.Time
}

// WithReadOnlyToken simulates the read-only GITHUB_TOKEN of a pull request
// from a fork: every write answers 403 "Resource not accessible by
// integration".
func WithReadOnlyToken() Option { return func(s *Server) { s.noWrite = true } }

// AddComment adds a comment, as someone else might have written it.
func (s *Server) AddComment(owner, repo string, issue int, user, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addComment(owner, repo, issue, user, body)
}

func (s *Server) addComment(owner, repo string, issue int, user, body string) int64 {
	s.lastID++
	now := s.now()
	s.comments = append(s.comments, &Comment{ID: s.lastID, Owner: owner, Repo: repo, Issue: issue, Body: body, User: user, CreatedAt: now, UpdatedAt: now})
	return s.lastID
}

// Comments returns a snapshot of an issue's comments, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

func (s *Server) commentJSON(c *Comment) map[string]any {
	base := fmt.Sprintf("%s/repos/%s/%s", strings.TrimSuffix(s.URL(), "/"), c.Owner, c.Repo)
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID),
		"url":      fmt.Sprintf("%s/issues/comments/%d", base, c.ID),
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", c.Owner, c.Repo, c.Issue, c.ID),
		"body":     c.Body, "user": map[string]any{"login": c.User, "type": "Bot"},
		"created_at": c.CreatedAt.Format(time.RFC3339), "updated_at": c.UpdatedAt.Format(time.RFC3339),
		"issue_url":          fmt.Sprintf("%s/issues/%d", base, c.Issue),
		"author_association": "NONE",
	}
}

// commentBody reads and checks a create or update body: an object with a
// string "body", as GitHub requires; anything else is a 422 and fails the
// test.
func (s *Server) commentBody(w http.ResponseWriter, r *http.Request, body []byte) (string, bool) {
	var in map[string]json.RawMessage
	var text string
	if json.Unmarshal(body, &in) != nil || in["body"] == nil || json.Unmarshal(in["body"], &text) != nil || len(in) != 1 {
		s.violation("%s %s: invalid body %s: want {\"body\": string}", r.Method, r.URL.Path, body)
		s.writeError(w, http.StatusUnprocessableEntity, "Validation Failed", commentsDoc, nil)
		return "", false
	}
	return text, true
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, _ []byte) {
	issue, err := strconv.Atoi(r.PathValue("issue_number"))
	if err != nil {
		s.writeError(w, http.StatusNotFound, "Not Found", commentsDoc, nil)
		return
	}
	s.mu.Lock()
	var out []map[string]any
	for _, c := range s.comments {
		if c.Issue == issue && strings.EqualFold(c.Owner, r.PathValue("owner")) && strings.EqualFold(c.Repo, r.PathValue("repo")) {
			out = append(out, s.commentJSON(c))
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, nonNil(paginate(s, w, r, out)))
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, body []byte) {
	issue, err := strconv.Atoi(r.PathValue("issue_number"))
	text, ok := s.commentBody(w, r, body)
	if !ok {
		return
	}
	if err != nil {
		s.writeError(w, http.StatusNotFound, "Not Found", commentsDoc, nil)
		return
	}
	s.mu.Lock()
	s.addComment(r.PathValue("owner"), r.PathValue("repo"), issue, s.login, text)
	out := s.commentJSON(s.comments[len(s.comments)-1])
	s.mu.Unlock()
	w.Header().Set("Location", out["url"].(string))
	s.writeJSON(w, http.StatusCreated, out)
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request, body []byte) {
	id, _ := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	text, ok := s.commentBody(w, r, body)
	if !ok {
		return
	}
	s.mu.Lock()
	var out map[string]any
	for _, c := range s.comments {
		if c.ID == id && strings.EqualFold(c.Owner, r.PathValue("owner")) && strings.EqualFold(c.Repo, r.PathValue("repo")) {
			c.Body, c.UpdatedAt = text, s.now()
			out = s.commentJSON(c)
		}
	}
	s.mu.Unlock()
	if out == nil {
		s.writeError(w, http.StatusNotFound, "Not Found", commentsDoc, nil)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}
