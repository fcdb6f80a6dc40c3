package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
)

// Keys put with a lease live while KeepAlive renews it, and go with it.
func TestLeases(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	l, err := c.Grant(ctx, 2*time.Second)
	if err != nil || l.TTL != "2s" {
		t.Fatalf("grant: %+v, %v", l, err)
	}
	if _, err := c.Put(ctx, "cl/a", []byte("x"), client.WithLease(l.ID)); err != nil {
		t.Fatal(err)
	}
	info, err := c.TimeToLive(ctx, l.ID)
	if err != nil || len(info.Keys) != 1 || info.Keys[0].Key != "cl/a" {
		t.Errorf("time to live: %+v, %v", info, err)
	}
	kctx, stop := context.WithCancel(ctx)
	renewals := c.KeepAlive(kctx, l.ID, 2*time.Second)
	for range 4 { // about 2.7 s: past the TTL
		if _, ok := <-renewals; !ok {
			t.Fatal("the keepalives stopped")
		}
	}
	if _, err := c.Get(ctx, "cl/a"); err != nil {
		t.Errorf("a key of a lease kept alive: %v", err)
	}
	stop()
	if _, err := c.Revoke(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "cl/a"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the key of a revoked lease: %v, want ErrNotFound", err)
	}
	if _, err := c.KeepAliveOnce(ctx, l.ID); !errors.Is(err, client.ErrLeaseNotFound) {
		t.Errorf("keepalive of a revoked lease: %v, want ErrLeaseNotFound", err)
	}
	if _, err := c.Put(ctx, "cl/b", []byte("x"), client.WithLease(l.ID)); !errors.Is(err, client.ErrLeaseNotFound) {
		t.Errorf("put with a revoked lease: %v, want ErrLeaseNotFound", err)
	}
}
