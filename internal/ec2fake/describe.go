package ec2fake

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// filter is one Filter.N of a request.
type filter struct {
	name   string
	values []string
}

var (
	filterParam   = regexp.MustCompile(`^Filter\.(\d+)\.(Name|Value\.(\d+))$`)
	instanceParam = regexp.MustCompile(`^InstanceId\.\d+$`)
)

// invalid is EC2's answer to a bad parameter value.
func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

// parseDescribe reads DescribeInstances' filters and instance ids from
// its form, failing the test on a parameter the fake does not know.
func (s *Server) parseDescribe(form url.Values) (map[int]*filter, []string, *apiError) {
	filters := map[int]*filter{}
	var ids []string
	for key, values := range form {
		value := values[0]
		switch m := filterParam.FindStringSubmatch(key); {
		case key == "Action" || key == "Version" || key == "MaxResults" || key == "NextToken":
		case key == "DryRun":
			if value == "true" {
				return nil, nil, &apiError{http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."}
			}
		case m != nil:
			n, _ := strconv.Atoi(m[1])
			if filters[n] == nil {
				filters[n] = &filter{}
			}
			if m[2] == "Name" {
				filters[n].name = value
			} else {
				filters[n].values = append(filters[n].values, value)
			}
		case instanceParam.MatchString(key):
			ids = append(ids, value)
		default:
			s.t.Errorf("ec2fake: unexpected DescribeInstances parameter %s=%q", key, value)
			return nil, nil, &apiError{http.StatusBadRequest, "UnknownParameter", "The parameter " + key + " is not recognized"}
		}
	}
	for _, f := range filters {
		if !knownFilter(f.name) {
			return nil, nil, invalid("The filter '%s' is invalid", f.name)
		}
	}
	return filters, ids, nil
}

// describeInstances answers DescribeInstances.
func (s *Server) describeInstances(form url.Values, requestID string) (*describeResponse, *apiError) {
	filters, ids, errResp := s.parseDescribe(form)
	if errResp != nil {
		return nil, errResp
	}
	pageSize := len(s.instances)
	if v := form.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return nil, invalid("Value ( %s ) for parameter maxResults is invalid. Expecting a value greater than 5.", v)
		}
		if len(ids) > 0 {
			return nil, invalid("The parameter instancesSet cannot be used with the parameter maxResults")
		}
		pageSize = n
	}
	if s.opts.PageSize > 0 {
		pageSize = min(pageSize, s.opts.PageSize)
	}

	var matched []Instance
	for _, inst := range s.instances {
		if len(ids) > 0 && !slices.Contains(ids, inst.ID) {
			continue
		}
		if matchesAll(inst, filters) {
			matched = append(matched, inst)
		}
	}

	query := queryKey(form)
	offset := 0
	if token := form.Get("NextToken"); token != "" {
		t, ok := s.tokens[token]
		if !ok || t.query != query {
			return nil, invalid("The specified NextToken is not valid for this request.")
		}
		delete(s.tokens, token)
		offset = t.offset
	}
	end := min(offset+max(pageSize, 1), len(matched))
	if offset > end {
		offset = end
	}
	resp := &describeResponse{RequestID: requestID, Reservations: reservations(matched[offset:end])}
	if end < len(matched) {
		s.nextToken++
		token := fmt.Sprintf("token-%d", s.nextToken)
		s.tokens[token] = pageToken{offset: end, query: query}
		resp.NextToken = token
	}
	return resp, nil
}

// knownFilter reports whether the fake implements a filter.
func knownFilter(name string) bool {
	switch name {
	case "tag-key", "tag-value", "instance-state-name", "instance-id", "private-ip-address", "ip-address":
		return true
	}
	return strings.HasPrefix(name, "tag:") && len(name) > 4
}

// matchesAll applies EC2's filter semantics: every filter must match, a
// filter matches when any of its values does, values may use * and ?.
func matchesAll(inst Instance, filters map[int]*filter) bool {
	for _, f := range filters {
		var have []string
		switch {
		case f.name == "tag-key":
			for k := range inst.Tags {
				have = append(have, k)
			}
		case f.name == "tag-value":
			for _, v := range inst.Tags {
				have = append(have, v)
			}
		case f.name == "instance-state-name":
			have = []string{state(inst)}
		case f.name == "instance-id":
			have = []string{inst.ID}
		case f.name == "private-ip-address":
			have = []string{inst.PrivateIP}
		case f.name == "ip-address":
			have = []string{inst.PublicIP}
		default: // tag:KEY
			if v, ok := inst.Tags[strings.TrimPrefix(f.name, "tag:")]; ok {
				have = []string{v}
			}
		}
		if !anyMatch(f.values, have) {
			return false
		}
	}
	return true
}

func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if ok, _ := path.Match(p, v); ok || p == v {
				return true
			}
		}
	}
	return false
}

// queryKey identifies a request's query without its page position.
func queryKey(form url.Values) string {
	q := url.Values{}
	for k, v := range form {
		if k != "NextToken" {
			q[k] = v
		}
	}
	return q.Encode()
}

func state(inst Instance) string {
	if inst.State == "" {
		return "running"
	}
	return inst.State
}

// stateCodes are EC2's instance state codes.
var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

// reservations groups a page's instances into reservations, in order.
func reservations(page []Instance) []reservation {
	var out []reservation
	index := map[string]int{}
	for n, inst := range page {
		id := inst.ReservationID
		if id == "" {
			id = fmt.Sprintf("r-%s-%d", strings.TrimPrefix(inst.ID, "i-"), n)
		}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, reservation{ID: id, OwnerID: "123456789012"})
		}
		x := instanceXML{ID: inst.ID, State: stateXML{Code: stateCodes[state(inst)], Name: state(inst)},
			PrivateIP: inst.PrivateIP, PublicIP: inst.PublicIP, PrivateDNS: inst.PrivateDNS, PublicDNS: inst.PublicDNS}
		for _, k := range slices.Sorted(maps.Keys(inst.Tags)) {
			x.Tags = append(x.Tags, tagXML{Key: k, Value: inst.Tags[k]})
		}
		out[i].Instances = append(out[i].Instances, x)
	}
	return out
}

// describeResponse is DescribeInstancesResponse as EC2 sends it.
type describeResponse struct {
	XMLName      xml.Name      `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
	RequestID    string        `xml:"requestId"`
	Reservations []reservation `xml:"reservationSet>item"`
	NextToken    string        `xml:"nextToken,omitempty"`
}

type reservation struct {
	ID        string        `xml:"reservationId"`
	OwnerID   string        `xml:"ownerId"`
	Instances []instanceXML `xml:"instancesSet>item"`
}

type instanceXML struct {
	ID         string   `xml:"instanceId"`
	State      stateXML `xml:"instanceState"`
	PrivateDNS string   `xml:"privateDnsName"`
	PublicDNS  string   `xml:"dnsName"`
	PrivateIP  string   `xml:"privateIpAddress,omitempty"`
	PublicIP   string   `xml:"ipAddress,omitempty"`
	Tags       []tagXML `xml:"tagSet>item"`
}

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}
