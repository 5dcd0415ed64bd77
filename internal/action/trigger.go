package action

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Trigger is what started the workflow run, for deployment descriptions.
type Trigger struct {
	// Event is GITHUB_EVENT_NAME: push, workflow_dispatch, ...
	Event string
	// Actor is who started it: the event's sender, else GITHUB_ACTOR.
	Actor string
	// Message is the first line of a push's head commit message.
	Message string
	// Inputs are a workflow_dispatch's inputs.
	Inputs map[string]string
}

// triggerOf reads the trigger from the run's context and event payload
// (GITHUB_EVENT_PATH).
func triggerOf(gh *githubactions.GitHubContext) Trigger {
	t := Trigger{Event: gh.EventName, Actor: gh.Actor}
	if sender, ok := gh.Event["sender"].(map[string]any); ok {
		if login, ok := sender["login"].(string); ok && login != "" {
			t.Actor = login
		}
	}
	if head, ok := gh.Event["head_commit"].(map[string]any); ok {
		if msg, ok := head["message"].(string); ok {
			t.Message, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
		}
	}
	if inputs, ok := gh.Event["inputs"].(map[string]any); ok {
		t.Inputs = make(map[string]string, len(inputs))
		for k, v := range inputs {
			if v != nil {
				t.Inputs[k] = fmt.Sprint(v)
			}
		}
	}
	return t
}

// String describes the trigger for a person: "push by alice: Fix the motd",
// "workflow_dispatch by bob (goal=test, targets=web-*)".
func (t Trigger) String() string {
	var b strings.Builder
	b.WriteString(t.Event)
	if b.Len() == 0 {
		b.WriteString("run")
	}
	if t.Actor != "" {
		b.WriteString(" by " + t.Actor)
	}
	var inputs []string
	for k, v := range t.Inputs {
		if v != "" {
			inputs = append(inputs, k+"="+v)
		}
	}
	sort.Strings(inputs)
	if len(inputs) > 0 {
		b.WriteString(" (" + strings.Join(inputs, ", ") + ")")
	}
	if t.Message != "" {
		b.WriteString(": " + t.Message)
	}
	return b.String()
}
