package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/valyala/fasthttp"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
)

// instantProposer answers every write and read at once: what is left of a
// request's cost is the HTTP layer's own.
type instantProposer struct{ value []byte }

func (p instantProposer) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *messages.ClientTxn:
		ctx.Respond(&messages.TxnReply{})
	case *messages.ClientRead:
		ctx.Respond(&messages.ReadReply{Result: messages.OpResult{KVs: []messages.KeyValue{{Key: []byte("k"), Value: p.value}}}})
	}
}

// BenchmarkHandler serves the raftexample routes the benchmark tool drives
// (PUT and GET of a 100-byte value, PUT of 16 KiB) through the whole handler, metrics
// included, against a proposer that answers at once: the HTTP layer's CPU
// and allocations per request, without the network.
func BenchmarkHandler(b *testing.B) {
	sys := actor.NewActorSystem()
	b.Cleanup(sys.Shutdown)
	value := bytes.Repeat([]byte("v"), 100)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return instantProposer{value: value} }))
	s := httpapi.New(sys.Root, pid, nil, httpapi.WithMetrics(metrics.New()))
	big := bytes.Repeat([]byte("v"), 16<<10)
	for _, tc := range []struct {
		name, method string
		value        []byte
	}{{"put", http.MethodPut, value}, {"put-16KiB", http.MethodPut, big}, {"get", http.MethodGet, nil}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var body io.Reader = http.NoBody
				if tc.method == http.MethodPut {
					body = bytes.NewReader(tc.value)
				}
				r := httptest.NewRequest(tc.method, "/key-000001", body)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code >= 300 {
					b.Fatalf("%s: %d %s", tc.method, w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkServer sends PUT and GET /<key> of a 100-byte value over
// loopback, one request at a time on a kept-alive connection, to the
// instant proposer's API as NewServer serves it (fasthttp, the key routes
// native) and, for comparison, as net/http's server would: the server's
// cost per request with the network's, the client's (fasthttp's) alike in
// both.
func BenchmarkServer(b *testing.B) {
	sys := actor.NewActorSystem()
	b.Cleanup(sys.Shutdown)
	value := bytes.Repeat([]byte("v"), 100)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return instantProposer{value: value} }))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(sys.Root, pid, quiet, httpapi.WithMetrics(metrics.New()))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := httpapi.NewServer(api, httpapi.ServerConfig{Logger: quiet})
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	ref := httptest.NewServer(api)
	b.Cleanup(ref.Close)

	for _, server := range []struct{ name, addr string }{{"net-http", strings.TrimPrefix(ref.URL, "http://")}, {"fasthttp", lis.Addr().String()}} {
		hc := &fasthttp.HostClient{Addr: server.addr, MaxConns: 1}
		for _, method := range []string{http.MethodPut, http.MethodGet} {
			b.Run(server.name+"/"+strings.ToLower(method), func(b *testing.B) {
				b.ReportAllocs()
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for b.Loop() {
					req.Reset()
					req.Header.SetMethod(method)
					req.SetRequestURI("http://" + server.addr + "/key-000001")
					if method == http.MethodPut {
						req.SetBody(value)
					}
					if err := hc.Do(req, resp); err != nil || resp.StatusCode() >= 300 {
						b.Fatalf("%s: %v %d %s", method, err, resp.StatusCode(), resp.Body())
					}
				}
			})
		}
	}
}
