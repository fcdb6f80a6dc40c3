package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestClientsSpeakTheRaftexampleRoutes checks that both HTTP clients of
// raftkv's workers send what the member's routes expect and report an
// unexpected answer as an error.
func TestClientsSpeakTheRaftexampleRoutes(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/broken"):
			http.Error(w, "no leader", http.StatusServiceUnavailable)
		case r.Method == http.MethodPut:
			w.WriteHeader(http.StatusNoContent)
		default:
			io.WriteString(w, "value")
		}
	}))
	defer srv.Close()

	for _, kind := range []string{ClientFastHTTP, ClientNetHTTP} {
		t.Run(kind, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			var c Client = NewFastClient(srv.URL, 2)
			if kind == ClientNetHTTP {
				c = NewHTTPClient(srv.URL, 2)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.Put(ctx, "k1", []byte("v1")); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if err := c.Get(ctx, "k1", false); err != nil {
				t.Fatalf("Get: %v", err)
			}
			if err := c.Get(ctx, "k1", true); err != nil {
				t.Fatalf("serializable Get: %v", err)
			}
			err := c.Put(ctx, "broken", []byte("v"))
			if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "no leader") {
				t.Fatalf("Put answered 503: got error %v, want one with the status and the answer", err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{
				"PUT /k1 v1",
				"GET /k1 ",
				"GET /v1/kv/k1?raw&consistency=serializable ",
				"PUT /broken v",
			}
			if strings.Join(seen, "\n") != strings.Join(want, "\n") {
				t.Fatalf("requests seen:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
