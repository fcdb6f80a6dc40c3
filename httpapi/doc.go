// Package httpapi is the HTTP interface of a raftkv node. It turns each
// request into a client message to the node's proposer (messages.ClientTxn,
// ClientRead, ClientConfChange, ClientStatus), waits for the answer with a
// deadline, and writes it back; it holds no state of its own.
//
// Two sets of routes are served:
//
//   - raftexample's, made safe: PUT /<key> (the body is the value) answers
//     only once the write is committed and applied, GET /<key> is
//     linearizable, POST /<id> (the body is the new member's peer address)
//     and DELETE /<id> change the membership.
//   - the JSON API under /v1/: /v1/kv/<key> and /v1/kv (ranges), /v1/txn,
//     /v1/members, /v1/status. Answers carry the store revision in the
//     X-Raftkv-Revision header; ?timeout= bounds the wait and
//     ?consistency=serializable skips the read index round. The JSON
//     shapes are those of package api, which the Go client shares.
//
// Every error is a JSON body {"error": ..., "code": ...} with a status that
// fits it: 400 for invalid input, 404/409 for membership changes that change
// nothing, 503 while the node is not ready or has no leader (or on an error
// the API does not expect), and 504 (503 on the raftexample routes) when
// the deadline passes first, in which case a write may still apply later.
// No other 5xx is answered.
//
// Server is an http.Handler; NewServer serves it with fasthttp's server,
// PUT and GET /<key> natively and the other routes through fasthttp's
// net/http adaptor. Connections are bounded: NewServer sets the read,
// write and idle timeouts, and LimitListener caps the connections open at
// once, so that clients holding connections open cannot take the file
// descriptors the member needs for its files.
//
// # Usage
//
//	api := httpapi.New(n.System().Root, n.Proposer(), logger)
//	srv := httpapi.NewServer(api, httpapi.ServerConfig{Logger: logger})
//	lis, err := net.Listen("tcp", ":12380")
//	...
//	err = srv.Serve(httpapi.LimitListener(lis, httpapi.DefaultMaxConnections))
package httpapi
