package githubfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// handlers maps every implemented route to its handler.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		ListDeployments:  s.listDeployments,
		CreateDeployment: s.createDeployment,
		GetDeployment:    s.getDeployment,
		DeleteDeployment: s.deleteDeployment,
		ListStatuses:     s.listStatuses,
		CreateStatus:     s.createStatus,
		GetStatus:        s.getStatus,
		ListJobs:         s.listJobs,
		ListAttemptJobs:  s.listAttemptJobs,
		RateLimit:        s.rateLimit,
		ListComments:     s.listComments,
		CreateComment:    s.createComment,
		UpdateComment:    s.updateComment,
	}
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Ref                   string          `json:"ref"`
		Task                  *string         `json:"task"`
		Payload               json.RawMessage `json:"payload"`
		Environment           *string         `json:"environment"`
		Description           *string         `json:"description"`
		TransientEnvironment  *bool           `json:"transient_environment"`
		ProductionEnvironment *bool           `json:"production_environment"`
	}
	_ = json.Unmarshal(body, &in) // validated against the spec already
	doc := s.ops[CreateDeployment].documentationURL()
	sha, ok := s.resolve(in.Ref)
	if !ok {
		s.writeError(w, http.StatusUnprocessableEntity, "No ref found for: "+in.Ref, doc, nil)
		return
	}
	d := &deployment{Deployment: Deployment{
		Owner: r.PathValue("owner"), Repo: r.PathValue("repo"),
		Ref: in.Ref, SHA: sha, Task: "deploy", Environment: "production",
		Payload: json.RawMessage("{}"),
	}}
	if in.Task != nil {
		d.Task = *in.Task
	}
	if in.Environment != nil {
		d.Environment = *in.Environment
	}
	d.OriginalEnvironment = d.Environment
	if in.Description != nil {
		d.Description = *in.Description
	}
	d.ProductionEnvironment = d.Environment == "production"
	if in.ProductionEnvironment != nil {
		d.ProductionEnvironment = *in.ProductionEnvironment
	}
	if in.TransientEnvironment != nil {
		d.TransientEnvironment = *in.TransientEnvironment
	}
	if len(in.Payload) > 0 && string(in.Payload) != "null" {
		d.Payload = payload(in.Payload)
	}
	d.CreatedAt = s.now()
	d.UpdatedAt = d.CreatedAt

	s.mu.Lock()
	s.lastID++
	d.ID = s.lastID
	s.deployments = append(s.deployments, d)
	out := s.deploymentJSON(d)
	s.mu.Unlock()
	s.writeJSON(w, http.StatusCreated, out)
}

// payload stores a payload as GitHub does: an object as is, a string holding
// a JSON object as that object, any other string as a string.
func payload(raw json.RawMessage) json.RawMessage {
	var str string
	if json.Unmarshal(raw, &str) != nil {
		return raw
	}
	var obj map[string]any
	if json.Unmarshal([]byte(str), &obj) == nil && obj != nil {
		return json.RawMessage(str)
	}
	return raw
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	s.mu.Lock()
	var out []map[string]any
	for _, d := range slices.Backward(s.deployments) { // newest first, as GitHub lists them
		if !s.inRepo(d, r) ||
			(q.Has("environment") && q.Get("environment") != d.Environment) ||
			(q.Has("ref") && q.Get("ref") != d.Ref) ||
			(q.Has("sha") && !strings.EqualFold(q.Get("sha"), d.SHA)) ||
			(q.Has("task") && q.Get("task") != d.Task) {
			continue
		}
		out = append(out, s.deploymentJSON(d))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, nonNil(paginate(s, w, r, out)))
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	d := s.lookup(r)
	var out map[string]any
	if d != nil {
		out = s.deploymentJSON(d)
	}
	s.mu.Unlock()
	if d == nil {
		s.notFound(w, GetDeployment)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// deleteDeployment deletes as GitHub documents: any deployment when it is
// the repository's only one, otherwise only inactive ones.
func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	d := s.lookup(r)
	inRepo := 0
	for _, other := range s.deployments {
		if d != nil && sameRepo(d, other) {
			inRepo++
		}
	}
	switch {
	case d == nil:
		s.mu.Unlock()
		s.notFound(w, DeleteDeployment)
	case inRepo > 1 && d.State != "inactive":
		s.mu.Unlock()
		s.writeError(w, http.StatusUnprocessableEntity,
			"We cannot delete an active deployment unless it is the only deployment in a given environment.",
			s.ops[DeleteDeployment].documentationURL(), nil)
	default:
		s.deployments = slices.DeleteFunc(s.deployments, func(x *deployment) bool { return x == d })
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// lookup finds the deployment a request's path names; s.mu must be held.
func (s *Server) lookup(r *http.Request) *deployment {
	id, err := strconv.ParseInt(r.PathValue("deployment_id"), 10, 64)
	if err != nil {
		return nil
	}
	if d := s.find(id); d != nil && s.inRepo(d, r) {
		return d
	}
	return nil
}

func (s *Server) inRepo(d *deployment, r *http.Request) bool {
	return strings.EqualFold(d.Owner, r.PathValue("owner")) && strings.EqualFold(d.Repo, r.PathValue("repo"))
}

func (s *Server) notFound(w http.ResponseWriter, route string) {
	doc := "https://docs.github.com/rest"
	if op := s.ops[route]; op != nil {
		doc = op.documentationURL()
	}
	s.writeError(w, http.StatusNotFound, "Not Found", doc, nil)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}
