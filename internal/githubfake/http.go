package githubfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// handler answers one route once the request passed authentication,
// validation, the permission check and fault injection.
type handler func(w http.ResponseWriter, r *http.Request, body []byte)

// middleware does, for every implemented route and in this order: note the
// route, send the rate limit headers, check the token (401), validate the
// query and body against deployments.json (422 and a test failure), refuse
// writes for a token without deployments: write (403), answer an injected
// fault, and finally call h.
func (s *Server) middleware(route string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.setRoute(route)
		}
		body, _ := io.ReadAll(r.Body)
		if !s.authorized(r) {
			s.setRateHeaders(w, -1, time.Time{})
			s.writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest", nil)
			return
		}
		refused := s.admit(r)
		s.setRateHeaders(w, -1, time.Time{})
		if refused != nil {
			s.writeFault(w, refused)
			return
		}
		op := s.ops[route]
		if op != nil {
			if problems := op.validateQuery(r.URL.Query()); len(problems) > 0 {
				s.violation("%s %s: %s", r.Method, r.URL.Path, strings.Join(problems, "; "))
				s.writeError(w, http.StatusUnprocessableEntity, "Validation Failed", op.documentationURL(), nil)
				return
			}
			errs, err := op.validateBody(body)
			if err != nil {
				s.t.Errorf("githubfake: %v", err)
			}
			if len(errs) > 0 {
				msgs := make([]string, len(errs))
				for i, e := range errs {
					msgs[i] = e.Field + " " + e.Code
					if e.Message != "" {
						msgs[i] = e.Message
					}
				}
				s.violation("%s %s: invalid body %s: %s", r.Method, r.URL.Path, body, strings.Join(msgs, "; "))
				s.writeError(w, http.StatusUnprocessableEntity, "Validation Failed", op.documentationURL(), errs)
				return
			}
		}
		if s.noWrite && r.Method != http.MethodGet {
			doc := ""
			if op != nil {
				doc = op.documentationURL()
			}
			s.writeError(w, http.StatusForbidden, "Resource not accessible by integration", doc, nil)
			return
		}
		if f := s.takeFault(route, r); f != nil {
			s.writeFault(w, f)
			return
		}
		h(w, r, body)
	})
}

// authorized reports whether the request carries the configured token, in
// either of the forms GitHub accepts.
func (s *Server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "token "} {
		if tok, ok := strings.CutPrefix(auth, scheme); ok && tok == s.token {
			return true
		}
	}
	return false
}

// setRateHeaders sends GitHub's X-RateLimit-* headers. remaining < 0 means
// the current count; a zero reset means the primary window's end.
func (s *Server) setRateHeaders(w http.ResponseWriter, remaining int, reset time.Time) {
	s.mu.Lock()
	if remaining < 0 {
		remaining = s.remaining
	}
	if reset.IsZero() {
		reset = s.rateState.reset
	}
	limit := s.limits.Primary
	s.mu.Unlock()
	if reset.IsZero() {
		reset = time.Now().Add(time.Hour)
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeError answers in GitHub's error shape.
func (s *Server) writeError(w http.ResponseWriter, status int, message, doc string, errs []fieldError) {
	body := map[string]any{"message": message, "status": strconv.Itoa(status)}
	if doc != "" {
		body["documentation_url"] = doc
	}
	if errs != nil {
		body["errors"] = errs
	}
	s.writeJSON(w, status, body)
}

// paginate cuts items by the per_page and page query parameters as GitHub
// does (30 by default, at most 100) and sets the Link header go-github reads.
func paginate[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) []T {
	q := r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((len(items)+perPage-1)/perPage, 1)

	link := func(p int, rel string) string {
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u := url.URL{Path: s.basePath + r.URL.Path, RawQuery: q.Encode()}
		return "<" + s.srv.URL + u.String() + `>; rel="` + rel + `"`
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*perPage, len(items))
	hi := min(lo+perPage, len(items))
	return items[lo:hi]
}
