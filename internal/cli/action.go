package cli

import (
	"context"
	"fmt"
)

func runAction(ctx context.Context, args []string, std IO) error {
	return fmt.Errorf("%w: the action command is not available yet", ErrUsage)
}
