package githubfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// createStatus adds a status with GitHub's defaults: log_url and target_url
// mirror each other, the environment is the previous status's (else the
// deployment's) unless given, in which case it moves the deployment, and
// auto_inactive is true.
func (s *Server) createStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		State          string  `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    *string `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL *string `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	_ = json.Unmarshal(body, &in) // validated against the spec already
	st := Status{State: in.State, AutoInactive: true}
	switch {
	case in.LogURL != nil:
		st.LogURL, st.TargetURL = *in.LogURL, *in.LogURL
	case in.TargetURL != nil:
		st.LogURL, st.TargetURL = *in.TargetURL, *in.TargetURL
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if in.EnvironmentURL != nil {
		st.EnvironmentURL = *in.EnvironmentURL
	}
	if in.AutoInactive != nil {
		st.AutoInactive = *in.AutoInactive
	}
	now := s.now()

	s.mu.Lock()
	d := s.lookup(r)
	if d == nil {
		s.mu.Unlock()
		s.notFound(w, CreateStatus)
		return
	}
	switch {
	case in.Environment != nil:
		st.Environment = *in.Environment
		d.Environment = st.Environment
	case len(d.statuses) > 0:
		st.Environment = d.statuses[len(d.statuses)-1].Environment
	default:
		st.Environment = d.Environment
	}
	st.CreatedAt = now
	st = s.addStatus(d, st)
	out := s.statusJSON(d, st)
	s.mu.Unlock()
	s.writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	d := s.lookup(r)
	var out []map[string]any
	if d != nil {
		for _, st := range slices.Backward(d.statuses) { // newest first, as GitHub lists them
			out = append(out, s.statusJSON(d, st))
		}
	}
	s.mu.Unlock()
	if d == nil {
		s.notFound(w, ListStatuses)
		return
	}
	s.writeJSON(w, http.StatusOK, nonNil(paginate(s, w, r, out)))
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, _ []byte) {
	id, _ := strconv.ParseInt(r.PathValue("status_id"), 10, 64)
	s.mu.Lock()
	var out map[string]any
	if d := s.lookup(r); d != nil {
		for _, st := range d.statuses {
			if st.ID == id {
				out = s.statusJSON(d, st)
			}
		}
	}
	s.mu.Unlock()
	if out == nil {
		s.notFound(w, GetStatus)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}
