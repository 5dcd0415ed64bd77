package githubfake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Job is a job of a workflow run, as the jobs endpoints list it.
type Job struct {
	// ID defaults to a number derived from the run, attempt and position.
	ID   int64
	Name string
	// Status is queued, in_progress or completed; default in_progress.
	Status     string
	Conclusion string
	RunnerName string
	// HTMLURL defaults to the job's page under the server's URL.
	HTMLURL string
}

// WithJobs sets the jobs of one attempt (from 1) of a workflow run, for the
// jobs endpoints. Runs without jobs answer 404.
func WithJobs(runID int64, attempt int, jobs ...Job) Option {
	return func(s *Server) {
		if s.jobs[runID] == nil {
			s.jobs[runID] = make(map[int][]Job)
		}
		for i, j := range jobs {
			if j.ID == 0 {
				j.ID = runID*1000 + int64(attempt)*100 + int64(i) + 1
			}
			if j.Status == "" {
				j.Status = "in_progress"
			}
			s.jobs[runID][attempt] = append(s.jobs[runID][attempt], j)
		}
	}
}

// listAttemptJobs answers GET .../actions/runs/{run_id}/attempts/{n}/jobs.
func (s *Server) listAttemptJobs(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.validJobsQuery(r, false) {
		s.writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "", nil)
		return
	}
	runID, _ := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	attempt, _ := strconv.Atoi(r.PathValue("attempt_number"))
	s.mu.Lock()
	jobs, ok := s.jobs[runID][attempt]
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt", nil)
		return
	}
	s.writeJobs(w, r, runID, map[int][]Job{attempt: jobs})
}

// listJobs answers GET .../actions/runs/{run_id}/jobs: the latest attempt's
// jobs, or every attempt's with filter=all.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.validJobsQuery(r, true) {
		s.writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "", nil)
		return
	}
	runID, _ := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	s.mu.Lock()
	attempts := s.jobs[runID]
	s.mu.Unlock()
	if len(attempts) == 0 {
		s.writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run", nil)
		return
	}
	if r.URL.Query().Get("filter") != "all" {
		latest := slices.Max(sortedInts(attempts))
		attempts = map[int][]Job{latest: attempts[latest]}
	}
	s.writeJobs(w, r, runID, attempts)
}

// validJobsQuery checks the query of a jobs request as GitHub documents it;
// a violation fails the test.
func (s *Server) validJobsQuery(r *http.Request, filter bool) bool {
	for name, values := range r.URL.Query() {
		for _, v := range values {
			_, err := strconv.Atoi(v)
			switch {
			case (name == "per_page" || name == "page") && err == nil:
			case name == "filter" && filter && (v == "latest" || v == "all"):
			default:
				s.violation("%s %s: query parameter %s=%q is not documented", r.Method, r.URL.Path, name, v)
				return false
			}
		}
	}
	return true
}

func (s *Server) writeJobs(w http.ResponseWriter, r *http.Request, runID int64, attempts map[int][]Job) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	var out []map[string]any
	for _, attempt := range sortedInts(attempts) {
		for _, j := range attempts[attempt] {
			html := j.HTMLURL
			if html == "" {
				html = fmt.Sprintf("%s/%s/%s/actions/runs/%d/job/%d", s.srv.URL, owner, repo, runID, j.ID)
			}
			var conclusion any
			if j.Conclusion != "" {
				conclusion = j.Conclusion
			}
			out = append(out, map[string]any{
				"id":          j.ID,
				"run_id":      runID,
				"run_attempt": attempt,
				"node_id":     nodeID("WorkflowJob", j.ID),
				"url":         fmt.Sprintf("%s/actions/jobs/%d", s.repoURL(owner, repo), j.ID),
				"run_url":     fmt.Sprintf("%s/actions/runs/%d", s.repoURL(owner, repo), runID),
				"html_url":    html,
				"status":      j.Status,
				"conclusion":  conclusion,
				"name":        j.Name,
				"runner_name": j.RunnerName,
				"steps":       []any{},
				"labels":      []string{"ubuntu-latest"},
			})
		}
	}
	total := len(out)
	s.writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "jobs": nonNil(paginate(s, w, r, out))})
}

func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
