package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/client/concurrency"
)

// leaseCommands are the commands on leases and locks.
func leaseCommands() []*command {
	return []*command{
		{name: "lease grant", args: "TTL", minArgs: 1, maxArgs: 1, setup: leaseGrantCmd,
			summary: "grant a lease of TTL (a Go duration, 1s to 168h) and print its id"},
		{name: "lease keepalive", args: "ID", minArgs: 1, maxArgs: 1, setup: leaseKeepAliveCmd,
			summary: "renew lease ID; with --forever, every third of its TTL until interrupted (exit 1 once it is gone)"},
		{name: "lease revoke", args: "ID", minArgs: 1, maxArgs: 1, setup: leaseRevokeCmd,
			summary: "end lease ID and delete its keys"},
		{name: "lease show", args: "ID", minArgs: 1, maxArgs: 1, setup: leaseShowCmd,
			summary: "print lease ID's TTL, time left and keys"},
		{name: "lock", args: "NAME [-- COMMAND ARGS...]", minArgs: 1, maxArgs: -1, setup: lockCmd,
			summary: "hold the lock NAME while COMMAND runs (or until interrupted), and exit with its code",
			help: "Waits for the lock: holders get it in the order they asked. The lock is a key\n" +
				"under NAME/ attached to a lease that this process keeps alive (--ttl): if the\n" +
				"process dies, the lock goes to the next waiter once the lease expires. If the\n" +
				"lease is lost while COMMAND runs, COMMAND is killed and lock exits 3."},
	}
}

func parseID(text string) (int64, error) {
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id < 1 {
		return 0, usageErrorf("lease id %q: want a number from 1", text)
	}
	return id, nil
}

// leaseGone turns ErrLeaseNotFound into exit 1.
func leaseGone(id int64, err error) error {
	if errors.Is(err, client.ErrLeaseNotFound) {
		return failedf("lease %d not found (revoked or expired)", id)
	}
	return err
}

func leaseGrantCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		ttl, err := time.ParseDuration(args[0])
		if err != nil {
			return usageErrorf("TTL %q: want a Go duration such as 10s", args[0])
		}
		ctx, cancel := e.ctx()
		defer cancel()
		l, err := e.client.Grant(ctx, ttl)
		if err != nil {
			return err
		}
		if e.json() {
			return e.printJSON(l)
		}
		_, err = fmt.Fprintf(e.stdout, "%d\n", l.ID)
		return err
	}
}

func leaseKeepAliveCmd(fs *flag.FlagSet) func(*env, []string) error {
	forever := fs.Bool("forever", false, "renew every third of the TTL until interrupted")
	return func(e *env, args []string) error {
		id, err := parseID(args[0])
		if err != nil {
			return err
		}
		ctx, cancel := e.ctx()
		l, err := e.client.KeepAliveOnce(ctx, id)
		cancel()
		if err != nil {
			return leaseGone(id, err)
		}
		if !*forever {
			if e.json() {
				return e.printJSON(l)
			}
			_, err = fmt.Fprintf(e.stdout, "lease %d renewed for %s\n", id, l.TTL)
			return err
		}
		ttl, err := time.ParseDuration(l.TTL)
		if err != nil {
			return fmt.Errorf("lease %d: TTL %q: %w", id, l.TTL, err)
		}
		sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		for range e.client.KeepAlive(sctx, id, ttl) {
		}
		if sctx.Err() != nil {
			return nil // interrupted
		}
		return failedf("lease %d is gone", id)
	}
}

// onLease runs a command's request on the lease of its argument.
func (e *env) onLease(arg string, do func(ctx context.Context, id int64) error) error {
	id, err := parseID(arg)
	if err != nil {
		return err
	}
	ctx, cancel := e.ctx()
	defer cancel()
	return leaseGone(id, do(ctx, id))
}

func leaseRevokeCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		return e.onLease(args[0], func(ctx context.Context, id int64) error {
			resp, err := e.client.Revoke(ctx, id)
			if err != nil {
				return err
			}
			return e.printRevoked(id, resp)
		})
	}
}

func (e *env) printRevoked(id int64, resp *client.DeleteResponse) error {
	if e.json() {
		return e.printJSON(resp)
	}
	_, err := fmt.Fprintf(e.stdout, "lease %d revoked\n", id)
	return err
}

func leaseShowCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		return e.onLease(args[0], func(ctx context.Context, id int64) error {
			info, err := e.client.TimeToLive(ctx, id)
			if err != nil {
				return err
			}
			return e.printLease(id, info)
		})
	}
}

func (e *env) printLease(id int64, info *client.LeaseInfo) error {
	if e.json() {
		return e.printJSON(info)
	}
	if _, err := fmt.Fprintf(e.stdout, "lease %d: TTL %s, %s left, %d keys\n", id, info.TTL, info.Remaining, len(info.Keys)); err != nil {
		return err
	}
	for _, k := range info.Keys {
		key := []byte(k.Key)
		if k.KeyBase64 != nil {
			key = k.KeyBase64
		}
		if _, err := fmt.Fprintln(e.stdout, printable(key)); err != nil {
			return err
		}
	}
	return nil
}

func lockCmd(fs *flag.FlagSet) func(*env, []string) error {
	ttl := fs.Duration("ttl", concurrency.DefaultTTL, "the lease of the lock: how long it outlives this process if it dies")
	return func(e *env, args []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		gctx, cancel := e.ctx()
		s, err := concurrency.NewSession(gctx, e.client, *ttl)
		cancel()
		if err != nil {
			return err
		}
		defer func() { _ = s.Close(context.WithoutCancel(ctx)) }()
		m := concurrency.NewMutex(s, args[0])
		if err := m.Lock(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while waiting
			}
			return err
		}
		if len(args) == 1 {
			if _, err := fmt.Fprintf(e.stdout, "holding %s (%s); interrupt to release\n", args[0], m.Key()); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-s.Done():
				return &exitError{ExitUnavailable, fmt.Errorf("lost the lock %s: its lease is gone", args[0])}
			}
		}
		cctx, kill := context.WithCancel(ctx)
		defer kill()
		cmd := exec.CommandContext(cctx, args[1], args[2:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
		if err := cmd.Start(); err != nil {
			return usageErrorf("run %s: %v", args[1], err)
		}
		lost := make(chan struct{})
		go func() {
			select {
			case <-s.Done():
				close(lost)
				kill()
			case <-cctx.Done():
			}
		}()
		err = cmd.Wait()
		select {
		case <-lost:
			return &exitError{ExitUnavailable, fmt.Errorf("lost the lock %s while %s ran: killed it", args[0], args[1])}
		default:
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &exitError{code: exit.ExitCode()}
		}
		return err
	}
}
