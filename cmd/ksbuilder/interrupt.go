package main

import "context"

// untilInterrupted runs work and returns its result, or ctx's error as
// soon as ctx is cancelled (the first Ctrl-C or SIGTERM): work that does
// not watch ctx (building a package in memory, hashing packages, a
// registry client without a context) is left behind while the command
// ends. work must not write the user's files unless it checks ctx just
// before: the command writes them afterwards, once it has checked ctx.
func untilInterrupted[T any](ctx context.Context, work func() (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := work()
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		if err := ctx.Err(); err != nil {
			var zero T
			return zero, err // cancelled as the work ended: nothing follows
		}
		return o.v, o.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
