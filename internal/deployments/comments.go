package deployments

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// ErrNoCommentPermission: the token may not comment on the pull request.
var ErrNoCommentPermission = errors.New("the token cannot comment on the pull request: give the workflow " +
	"`permissions: pull-requests: write` (a pull request from a fork always gets a read-only token)")

// maxCommentPages bounds the pages of 100 comments Comment reads looking
// for its marker.
const maxCommentPages = 10

// Comment keeps one comment on the issue or pull request number: the first
// comment whose body holds marker (a hidden HTML comment) is edited to
// body when it differs, otherwise a new comment is created. body must
// hold marker. It returns the comment's id and whether it was created.
func (g *GitHub) Comment(ctx context.Context, number int, marker, body string) (int64, bool, error) {
	if !strings.Contains(body, marker) {
		return 0, false, fmt.Errorf("comment on #%d: the body lacks its marker %q", number, marker)
	}
	existing, err := g.findComment(ctx, number, marker)
	if err != nil {
		return 0, false, err
	}
	if existing != nil {
		if existing.GetBody() == body {
			return existing.GetID(), false, nil
		}
		err := g.do(ctx, call{noPermission: ErrNoCommentPermission, fn: func(ctx context.Context, c *github.Client) error {
			_, _, err := c.Issues.EditComment(ctx, g.owner, g.repo, existing.GetID(), &github.IssueComment{Body: github.String(body)})
			return err
		}})
		if err != nil {
			return 0, false, fmt.Errorf("update comment %d on #%d: %w", existing.GetID(), number, err)
		}
		return existing.GetID(), false, nil
	}
	var id int64
	err = g.do(ctx, call{noPermission: ErrNoCommentPermission, fn: func(ctx context.Context, c *github.Client) error {
		created, _, err := c.Issues.CreateComment(ctx, g.owner, g.repo, number, &github.IssueComment{Body: github.String(body)})
		id = created.GetID()
		return err
	}})
	if err != nil {
		return 0, false, fmt.Errorf("comment on #%d: %w", number, err)
	}
	return id, true, nil
}

// findComment returns the first comment on number that holds marker, or
// nil.
func (g *GitHub) findComment(ctx context.Context, number int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 1; page <= maxCommentPages; page++ {
		opts.Page = page
		var comments []*github.IssueComment
		var next int
		err := g.do(ctx, call{noPermission: ErrNoCommentPermission, fn: func(ctx context.Context, c *github.Client) error {
			var err error
			var resp *github.Response
			comments, resp, err = c.Issues.ListComments(ctx, g.owner, g.repo, number, opts)
			if resp != nil {
				next = resp.NextPage
			}
			return err
		}})
		if err != nil {
			return nil, fmt.Errorf("read the comments of #%d: %w", number, err)
		}
		for _, c := range comments {
			if strings.Contains(c.GetBody(), marker) {
				return c, nil
			}
		}
		if next == 0 {
			break
		}
	}
	return nil, nil
}
