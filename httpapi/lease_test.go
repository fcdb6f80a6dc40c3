package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

func grant(t *testing.T, ttl string) api.LeaseReply {
	t.Helper()
	code, body := request(base, http.MethodPost, "/v1/leases", nil, []byte(fmt.Sprintf(`{"ttl":%q}`, ttl)))
	if code != http.StatusCreated {
		t.Fatalf("grant %s: %d %s", ttl, code, body)
	}
	var l api.LeaseReply
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func leaseInfo(t *testing.T, id int64) (int, api.LeaseInfoReply) {
	t.Helper()
	code, body := request(base, http.MethodGet, fmt.Sprintf("/v1/leases/%d", id), nil, nil)
	var info api.LeaseInfoReply
	_ = json.Unmarshal(body, &info)
	return code, info
}

func keyExists(key string) bool {
	code, _ := request(base, http.MethodGet, "/v1/kv/"+key, nil, nil)
	return code == http.StatusOK
}

// A lease's keys live while it is kept alive, and go when it expires or is
// revoked; a watcher sees them go.
func TestLeaseLifecycle(t *testing.T) {
	l := grant(t, "2s")
	if l.ID < 1 || l.ID >= 1<<53 || l.TTL != "2s" {
		t.Fatalf("grant: %+v", l)
	}
	for _, k := range []string{"lease/a", "lease/b"} {
		if code, body := request(base, http.MethodPut, fmt.Sprintf("/v1/kv/%s?lease=%d", k, l.ID), nil, []byte(`{"value":"eA=="}`)); code != 200 {
			t.Fatalf("put %s with the lease: %d %s", k, code, body)
		}
	}
	code, info := leaseInfo(t, l.ID)
	if code != 200 || len(info.Keys) != 2 || info.Keys[0].Key != "lease/a" || info.TTL != "2s" {
		t.Errorf("lease info: %d %+v", code, info)
	}
	// Kept alive for twice its TTL: the keys stay.
	keepUntil := time.Now().Add(4 * time.Second)
	for time.Now().Before(keepUntil) {
		if code, body := request(base, http.MethodPost, fmt.Sprintf("/v1/leases/%d/keepalive", l.ID), nil, nil); code != 200 {
			t.Fatalf("keepalive: %d %s", code, body)
		}
		<-time.After(400 * time.Millisecond) // the client's keepalive pace
	}
	if !keyExists("lease/a") {
		t.Fatal("a key of a lease kept alive went away")
	}
	// Left alone, it expires: both keys go at one revision.
	s := watch(t, "/v1/watch/lease/?prefix", nil)
	testkit.AwaitCondition(t, "the lease expires", func() bool {
		code, _ := leaseInfo(t, l.ID)
		return code == http.StatusNotFound
	}, 10*time.Second)
	if keyExists("lease/a") || keyExists("lease/b") {
		t.Error("the keys of an expired lease are still there")
	}
	a, b := s.change(t), s.change(t)
	if a.Type != "delete" || b.Type != "delete" || a.Revision != b.Revision {
		t.Errorf("the watcher saw %+v and %+v, want two deletes at one revision", a, b)
	}
	if code, _ := request(base, http.MethodPost, fmt.Sprintf("/v1/leases/%d/keepalive", l.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("keepalive of an expired lease: %d, want 404", code)
	}

	r := grant(t, "1m")
	request(base, http.MethodPut, fmt.Sprintf("/v1/kv/lease/r?lease=%d", r.ID), nil, []byte(`{"value":"eA=="}`))
	if code, body := request(base, http.MethodDelete, fmt.Sprintf("/v1/leases/%d", r.ID), nil, nil); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if keyExists("lease/r") {
		t.Error("the key of a revoked lease is still there")
	}
	if code, _ := request(base, http.MethodDelete, fmt.Sprintf("/v1/leases/%d", r.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("revoke twice: %d, want 404", code)
	}
}

// Bad lease requests are refused, and change nothing.
func TestLeaseBadInput(t *testing.T) {
	for _, body := range []string{`{"ttl":"0s"}`, `{"ttl":"-5s"}`, `{"ttl":"100000h"}`, `{"ttl":5}`, `{}`, `{"ttl":"10s","x":1}`, `nope`} {
		if code, b := request(base, http.MethodPost, "/v1/leases", nil, []byte(body)); code != 400 {
			t.Errorf("grant %s: %d %s, want 400", body, code, b)
		}
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		errCode            string
	}{
		{http.MethodPut, "/v1/kv/lease/x?lease=424242", `{"value":"eA=="}`, 404, "lease_not_found"},
		{http.MethodPut, "/v1/kv/lease/x?lease=abc", `{"value":"eA=="}`, 400, "invalid"},
		{http.MethodPut, "/v1/kv/lease/x?lease=0", `{"value":"eA=="}`, 400, "invalid"},
		{http.MethodPost, "/v1/txn", `{"success":[{"put":{"key":"lease/x","value":"eA==","lease":424242}}]}`, 404, "lease_not_found"},
		{http.MethodGet, "/v1/leases/424242", "", 404, "lease_not_found"},
		{http.MethodGet, "/v1/leases/abc", "", 400, "invalid"},
		{http.MethodPost, "/v1/leases/424242/keepalive", "", 404, "lease_not_found"},
		{http.MethodDelete, "/v1/leases/424242", "", 404, "lease_not_found"},
		{http.MethodPut, "/v1/leases/1", "", 405, "method_not_allowed"},
	} {
		code, body := request(base, c.method, c.path, nil, []byte(c.body))
		var e api.ErrorReply
		_ = json.Unmarshal(body, &e)
		if code != c.code || e.Code != c.errCode {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, code, body, c.code, c.errCode)
		}
	}
	if keyExists("lease/x") {
		t.Error("a refused put wrote its key")
	}
}
