package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/raftkv/raftkv/client"
)

// watchCommands are the commands on the history of changes.
func watchCommands() []*command {
	return []*command{
		{name: "watch", args: "KEY", minArgs: 1, maxArgs: 1, setup: watchCmd,
			summary: "print the changes of KEY (or with --prefix of every key under it) as they happen, until interrupted",
			help: "Prints one line per change: put<TAB>key<TAB>value or delete<TAB>key (printed\n" +
				"as ls does); -o json prints each change as a JSON line ({\"type\",\"revision\",\"kv\"...}).\n" +
				"It resumes on another member when one goes away, with no change lost or\n" +
				"repeated; exit 1 if the start revision is older than the history kept."},
		{name: "compact", args: "REVISION", minArgs: 1, maxArgs: 1, setup: compactCmd,
			summary: "drop the history before REVISION on every member"},
	}
}

func watchCmd(fs *flag.FlagSet) func(*env, []string) error {
	prefix := fs.Bool("prefix", false, "watch every key that starts with KEY")
	end := fs.String("end", "", "watch the keys from KEY to before `K`")
	rev := fs.Int64("rev", 0, "start at revision `R` (default: after the newest write acknowledged now)")
	prevKV := fs.Bool("prev-kv", false, "with -o json, add each key's previous state")
	count := fs.Int("count", 0, "exit after `N` changes (0: never)")
	return func(e *env, args []string) error {
		switch {
		case *prefix && *end != "":
			return usageErrorf("give --prefix or --end, not both")
		case *rev < 0 || *count < 0:
			return usageErrorf("--rev and --count must be 0 or more")
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		opts := []client.OpOption{}
		if *prefix {
			opts = append(opts, client.WithPrefix())
		}
		if *end != "" {
			opts = append(opts, client.WithRangeEnd(*end))
		}
		if *rev > 0 {
			opts = append(opts, client.WithRevision(*rev))
		}
		if *prevKV {
			opts = append(opts, client.WithPrevKV())
		}
		seen := 0
		for r := range e.client.Watch(ctx, args[0], opts...) {
			if r.Err != nil {
				if errors.Is(r.Err, context.Canceled) {
					return nil // interrupted
				}
				if errors.Is(r.Err, client.ErrCompacted) {
					return failedf("revision %d is compacted: the oldest revision kept is %d", *rev, r.CompactRevision)
				}
				return r.Err
			}
			for _, ev := range r.Events {
				if err := e.printEvent(&ev); err != nil {
					return err
				}
				if seen++; *count > 0 && seen >= *count {
					return nil
				}
			}
		}
		return nil
	}
}

// printEvent writes one change: a JSON line, or type, key and value.
func (e *env) printEvent(ev *client.WatchEvent) error {
	if e.json() {
		return e.printJSON(ev)
	}
	var err error
	if ev.Type == "delete" {
		_, err = fmt.Fprintf(e.stdout, "delete\t%s\n", printable(ev.KV.KeyBytes()))
	} else {
		_, err = fmt.Fprintf(e.stdout, "put\t%s\t%s\n", printable(ev.KV.KeyBytes()), printable(ev.KV.Value))
	}
	return err
}

func compactCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		rev, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || rev < 1 {
			return usageErrorf("REVISION %q: want a revision, a number from 1", args[0])
		}
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := e.client.Compact(ctx, rev)
		if errors.Is(err, client.ErrCompacted) {
			return failedf("revision %d is compacted already", rev)
		}
		if err != nil {
			return err
		}
		if e.json() {
			return e.printJSON(resp)
		}
		_, err = fmt.Fprintf(e.stdout, "compacted to revision %d\n", rev)
		return err
	}
}
