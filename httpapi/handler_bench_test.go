package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

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
