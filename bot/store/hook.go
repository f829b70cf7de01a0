package store

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// OnError has count called with the name of every Redis command that fails
// on rdb, such as "evalsha" or "xreadgroup", for metrics. Answers that are
// not failures are not counted: no such key (redis.Nil), a script Redis
// has not cached yet (NOSCRIPT, which go-redis answers by sending the
// script), a consumer group that exists already (BUSYGROUP), a command
// whose caller gave up (context.Canceled, as at shutdown), and the probes
// go-redis sends on each new connection and does without when a server
// does not know them (HELLO, CLIENT SETINFO). count must be cheap and safe
// for concurrent use.
func OnError(rdb redis.UniversalClient, count func(command string)) {
	rdb.AddHook(errorHook(count))
}

type errorHook func(command string)

func (h errorHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h errorHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(err) {
			h.failed(cmd)
		}
		return err
	}
}

func (h errorHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil { // the first command's error that failed, if any did
			for _, cmd := range cmds {
				if failed(cmd.Err()) {
					h.failed(cmd)
				}
			}
		}
		return err
	}
}

func (h errorHook) failed(cmd redis.Cmder) {
	switch name := cmd.Name(); name {
	case "hello", "client":
	default:
		h(name)
	}
}

// failed reports whether err is a failure of Redis or of the way to it,
// rather than an answer.
func failed(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	msg := err.Error()
	return !strings.HasPrefix(msg, "NOSCRIPT") && !strings.HasPrefix(msg, "BUSYGROUP")
}
