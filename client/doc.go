// Package client is the Go client of raftkv's HTTP API v1: put, get,
// delete, ranges, transactions, membership and status, each with a
// context. The routes are described with httpapi.V1Prefix; the JSON
// shapes of the answers are those of package api, which this package
// names with aliases (PutResponse is api.PutReply, KeyValue is
// api.KeyValue...), so a program needs to import only this package. It
// does not import the node: a client stays light.
//
// # Failover and retries
//
// A Client knows several members (endpoints). It sends a request to the
// member that answered last and goes on to the next one when a member
// cannot serve it:
//
//   - any request is sent elsewhere when the connection could not be made
//     (the member is down) or the member refused it before acting on it
//     (503 not_ready or no_leader);
//   - a read (Get, Range, Members, Status, and a Txn of gets only) is also
//     sent elsewhere after a lost connection, a 503 or a 504, since reading
//     twice changes nothing;
//   - a write (Put, Delete, a Txn that writes, AddMember, RemoveMember) is
//     never sent twice once it may have reached a member: if its answer is
//     lost (timeout, connection reset, the member stopping, 504), the call
//     returns an error matching ErrUnknownOutcome, because the write may
//     still apply (or may never). The caller decides: read the key, or
//     write again knowing it may apply twice.
//
// The context bounds the whole call; its deadline is also passed to the
// member as ?timeout= (a little shorter), so that the member answers 504
// before the caller gives up rather than leaving the outcome to a closed
// connection.
//
// # Keys
//
// Keys are strings of any bytes, UTF-8 or not, NUL included: the client
// percent-encodes them in URLs and sends those that are not valid UTF-8 in
// base64 in transactions. In answers, KeyValue.KeyBytes gives every key
// back as it was written (KeyValue.Key is empty for a key that is not
// valid UTF-8).
//
// # Consistency
//
// Reads are linearizable by default: they observe every write acknowledged
// before they started, whichever member serves them. WithSerializable reads
// the member's local state without a round of the cluster: faster and
// available without a quorum, but possibly stale.
//
// # Errors
//
// Error answers are *Error values that match the package's sentinels with
// errors.Is: ErrNotFound (404), ErrPreconditionFailed (412; the *Error has
// the key's current state in KV), ErrInvalid (400), ErrTooLarge (413),
// ErrUnavailable (503, or no member reachable), ErrTimeout (504),
// ErrMemberExists (409), ErrMemberNotFound (404).
//
// # Usage
//
//	c, err := client.New([]string{"http://127.0.0.1:12380", "http://127.0.0.1:22380"})
//	if err != nil { ... }
//	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//	defer cancel()
//	put, err := c.Put(ctx, "greeting", []byte("hello"))
//	got, err := c.Get(ctx, "greeting")                 // got.KV.Value, got.KV.ModRevision
//	_, err = c.Put(ctx, "greeting", []byte("hi"), client.IfMatch(got.KV.ModRevision))
//	if errors.Is(err, client.ErrPreconditionFailed) { ... } // someone else wrote first
//	page, err := c.RangePrefix(ctx, "user/", client.WithLimit(100))
//	if page.More { page, err = c.RangePrefix(ctx, "user/", client.WithLimit(100), client.WithNext(page.Next)) }
package client
