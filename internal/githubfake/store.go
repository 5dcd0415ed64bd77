package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Deployment is the server's record of one deployment.
type Deployment struct {
	ID                    int64
	Owner, Repo           string
	Ref, SHA, Task        string
	Payload               json.RawMessage
	Environment           string // changed by a status that names another environment
	OriginalEnvironment   string
	Description           string
	ProductionEnvironment bool
	TransientEnvironment  bool
	CreatedAt, UpdatedAt  time.Time
	// State is the state of the latest status, "" before the first.
	State string
}

// Status is the server's record of one deployment status.
type Status struct {
	ID, DeploymentID int64
	State            string
	Description      string
	Environment      string
	LogURL           string
	TargetURL        string
	EnvironmentURL   string
	AutoInactive     bool
	CreatedAt        time.Time
}

type deployment struct {
	Deployment
	statuses []Status
}

// Deployments returns a snapshot of every deployment, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deployment, len(s.deployments))
	for i, d := range s.deployments {
		out[i] = d.Deployment
	}
	return out
}

// Statuses returns a snapshot of a deployment's statuses, oldest first.
func (s *Server) Statuses(deploymentID int64) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.find(deploymentID); d != nil {
		return append([]Status(nil), d.statuses...)
	}
	return nil
}

// Requests returns a snapshot of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls counts the requests a route received, faults included.
func (s *Server) Calls(route string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

// Violations lists the invalid or unexpected requests the server saw (each
// also failed the test).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// find returns a deployment by id; s.mu must be held.
func (s *Server) find(id int64) *deployment {
	for _, d := range s.deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// resolve returns the commit a ref names, as GitHub does when creating a
// deployment.
func (s *Server) resolve(ref string) (string, bool) {
	if sha, ok := s.refs[ref]; ok {
		return sha, true
	}
	for _, sha := range s.refs {
		if strings.EqualFold(sha, ref) {
			return sha, true
		}
	}
	return "", false
}

// addStatus appends a status and, for a success with auto_inactive, adds an
// inactive status to every earlier deployment in the same repository and
// environment that is neither transient nor production and whose latest
// state is success, as GitHub documents ("Inactive deployments"). s.mu must
// be held.
func (s *Server) addStatus(d *deployment, st Status) Status {
	s.lastID++
	st.ID = s.lastID
	st.DeploymentID = d.ID
	d.statuses = append(d.statuses, st)
	d.State = st.State
	d.UpdatedAt = st.CreatedAt
	if st.State != "success" || !st.AutoInactive {
		return st
	}
	for _, prev := range s.deployments {
		if prev.ID >= d.ID || !sameRepo(prev, d) || prev.Environment != d.Environment ||
			prev.TransientEnvironment || prev.ProductionEnvironment || prev.State != "success" {
			continue
		}
		s.addStatus(prev, Status{
			State:       "inactive",
			Environment: prev.Environment,
			CreatedAt:   st.CreatedAt,
		})
	}
	return st
}

func sameRepo(a, b *deployment) bool {
	return strings.EqualFold(a.Owner, b.Owner) && strings.EqualFold(a.Repo, b.Repo)
}

func (s *Server) repoURL(owner, repo string) string {
	return s.srv.URL + s.basePath + "/repos/" + owner + "/" + repo
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(kind), kind, id))
}

func (s *Server) creator() map[string]any {
	return map[string]any{
		"login":    s.login,
		"id":       41898282,
		"node_id":  "MDM6Qm90NDE4OTgyODI=",
		"type":     "Bot",
		"url":      s.srv.URL + s.basePath + "/users/" + s.login,
		"html_url": s.srv.URL + "/apps/github-actions",
	}
}

// deploymentJSON renders a deployment as GitHub's API does.
func (s *Server) deploymentJSON(d *deployment) map[string]any {
	repoURL := s.repoURL(d.Owner, d.Repo)
	url := fmt.Sprintf("%s/deployments/%d", repoURL, d.ID)
	return map[string]any{
		"url":                      url,
		"id":                       d.ID,
		"node_id":                  nodeID("Deployment", d.ID),
		"sha":                      d.SHA,
		"ref":                      d.Ref,
		"task":                     d.Task,
		"payload":                  d.Payload,
		"original_environment":     d.OriginalEnvironment,
		"environment":              d.Environment,
		"description":              d.Description,
		"creator":                  s.creator(),
		"created_at":               d.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":               d.UpdatedAt.UTC().Format(time.RFC3339),
		"statuses_url":             url + "/statuses",
		"repository_url":           repoURL,
		"transient_environment":    d.TransientEnvironment,
		"production_environment":   d.ProductionEnvironment,
		"performed_via_github_app": nil,
	}
}

// statusJSON renders a deployment status as GitHub's API does.
func (s *Server) statusJSON(d *deployment, st Status) map[string]any {
	repoURL := s.repoURL(d.Owner, d.Repo)
	depURL := fmt.Sprintf("%s/deployments/%d", repoURL, d.ID)
	return map[string]any{
		"url":                      fmt.Sprintf("%s/statuses/%d", depURL, st.ID),
		"id":                       st.ID,
		"node_id":                  nodeID("DeploymentStatus", st.ID),
		"state":                    st.State,
		"creator":                  s.creator(),
		"description":              st.Description,
		"environment":              st.Environment,
		"target_url":               st.TargetURL,
		"log_url":                  st.LogURL,
		"environment_url":          st.EnvironmentURL,
		"created_at":               st.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":               st.CreatedAt.UTC().Format(time.RFC3339),
		"deployment_url":           depURL,
		"repository_url":           repoURL,
		"performed_via_github_app": nil,
	}
}
