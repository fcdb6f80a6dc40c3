package httpapi

// V1Prefix is the path prefix of the JSON API, version 1. Its routes:
//
//	GET    /v1/kv/<key>       read a key         200 {"revision":R,"kv":KV}, ETag: "<mod_revision>"
//	PUT    /v1/kv/<key>       write a key        200 {"revision":R,"prev_kv":KV}, ETag: "<R>"
//	DELETE /v1/kv/<key>       delete a key       200 {"revision":R,"deleted":N,"prev_kvs":[KV...],"prev_kvs_truncated":B}
//	GET    /v1/kv             read a range       200 {"revision":R,"kvs":[KV...],"more":B,"next":"<token>"}
//	POST   /v1/txn            transaction        200 {"revision":R,"succeeded":B,"responses":[...]}
//	GET    /v1/members        membership         200 {"revision":R,"leader":ID,"members":[{"id":ID,"address":"host:port"}...]}
//	POST   /v1/members        add a member       201 {"revision":R,"member":{"id":ID,"address":"host:port"}}
//	DELETE /v1/members/<id>   remove a member    200 {"revision":R}
//	GET    /v1/status         this node's view   200 api.StatusReply
//	GET    /v1/snapshot       a backup           200 the store in package backup's format, streamed
//	                          (?consistency=serializable: this member's state, without a quorum)
//
// where KV is {"key":"k","value":"<base64>","create_revision":C,"mod_revision":M,"version":V}
// (api.KeyValue; "key_base64":"<base64>" instead of "key" for a key that is not UTF-8). Every answer that knows the store revision carries it in the
// X-Raftkv-Revision header and in the JSON field "revision": every 2xx
// answer, 404 key_not_found and 412 precondition_failed.
//
// Keys are bytes. In a path they are the rest of the path after /v1/kv/,
// percent-decoded and taken as they are: "a/b", "x//y" and ".." are keys
// like any other (escape "?", "#" and "%" as %3F, %23, %25), and any byte
// can be escaped (/v1/kv/%FF%00 is the key 0xFF 0x00); the prefix, start
// and end query parameters are percent-decoded bytes too. In JSON a key is
// a string ("key") when it is valid UTF-8, and otherwise standard base64
// in "key_base64" (which JSON strings cannot lose): an answer carries
// exactly one of the two; a request may use either, not both. Range ends
// go the same way ("range_end" or "range_end_base64"). Values are bytes:
// standard base64 in JSON "value" fields (like etcd's JSON gateway); GET
// ?raw answers the raw value as application/octet-stream (metadata in
// X-Raftkv-Revision, X-Raftkv-Create-Revision, X-Raftkv-Mod-Revision,
// X-Raftkv-Version and ETag), and a PUT with Content-Type:
// application/octet-stream takes the raw body as the value; any other PUT
// body is JSON {"value":"<base64>"}, where "value" is required
// ({"value":""} is the empty value; null, {} and {"value":null} are 400).
//
// Query parameters (a parameter a route does not take is a 400, so that a
// misspelt one never changes a request silently; flags take no value,
// "true" or "false"):
//
//	timeout=<Go duration>         every route: how long to wait for the cluster (default DefaultTimeout, at most MaxTimeout)
//	consistency=serializable      GET /v1/kv/<key>, GET /v1/kv: read local state, possibly stale (default linearizable)
//	raw                           GET /v1/kv/<key>: the value as the body
//	prev_kv                       PUT, DELETE /v1/kv/<key>: return what was replaced or deleted
//	prefix                        DELETE /v1/kv/<key>: delete every key starting with <key>
//	prefix=<p>                    GET /v1/kv: the keys starting with p (every key for p empty)
//	start=<a>&end=<b>             GET /v1/kv: the keys in [a, b); no start: from the first key, no end: to the last
//	limit=<n>                     GET /v1/kv: at most n keys a page (0 or none: DefaultRangeLimit; at most MaxRangeLimit)
//	next=<token>                  GET /v1/kv: continue after the page that answered "next": <token>
//
// A range without prefix, start or end reads every key. A range answers
// one page: limit keys (DefaultRangeLimit, 1000, if none; a limit over
// MaxRangeLimit, 10000, is a 400), and no more than MaxRangeBytes (4 MiB)
// of keys and values: a page stops before the key that would take it over
// (it always holds the first key). "more" tells that the range goes on,
// and "next" continues it. Each page of a range is its own read: pages are
// in key order and, following "next", cover every key of the range exactly
// once if nothing writes meanwhile, but they are not one snapshot.
//
// Bounds of one request: bodies are bounded (a PUT's by the value limit,
// a txn's by MaxTxnBodySize, a membership change's by 4 KiB); a txn has at
// most MaxTxnOps (128) compares and ops in each branch (a range delete with
// prev_kv counts two), and the gets of a branch read at most MaxRangeLimit
// keys in all (a range get without limit counts DefaultRangeLimit). A
// txn get of a range without limit gets DefaultRangeLimit, and "more". The
// gets and the prev_kvs of range deletes of one txn answer share one
// MaxRangeBytes budget (each get holds at least its first key). prev_kv
// on a delete of a prefix or range returns at most the first
// MaxDeletePrevKVs (1000) keys, within MaxRangeBytes, with
// "prev_kvs_truncated": true when it left some out; "deleted" counts them
// all.
//
// Conditional writes, checked by the state machine when the write applies
// (never before proposing): "If-Match: "<mod_revision>"" on PUT or DELETE
// applies only if the key is still at that mod revision (the ETag of a
// GET); "If-Match: *" only if the key exists; "If-None-Match: *" on PUT
// only if it does not (create). A condition that fails answers 412
// precondition_failed with the revision and the key's current state in
// "kv" (no "kv" if it does not exist), and changes nothing.
//
// POST /v1/txn takes api.TxnRequest, like etcd's Txn:
//
//	{"compare": [{"key":"k","target":"mod_revision","result":"equal","mod_revision":5},
//	             {"key":"k","target":"value","result":"not_equal","value":"<base64>"},
//	             {"key":"n","target":"exists","result":"equal","exists":false}],
//	 "success": [{"put":{"key":"k","value":"<base64>","prev_kv":true}},
//	             {"get":{"key":"p/","prefix":true,"limit":10}},
//	             {"delete":{"key":"a","range_end":"c","prev_kv":true}}],
//	 "failure": [{"get":{"key":"k"}}]}
//
// Targets: value, mod_revision, create_revision, version, exists; results:
// equal, not_equal, greater, less (exists takes equal and not_equal); the
// operand goes in the field named like the target. A get or delete acts on
// its key, on [key, range_end) (range_end "\u0000": every key >= key) or,
// with prefix, on every key starting with key. The answer has one response
// per op of the branch that ran: {"put":{"prev_kv":KV}},
// {"get":{"kvs":[KV...],"more":B}},
// {"delete":{"deleted":N,"prev_kvs":[KV...],"prev_kvs_truncated":B}}.
// A txn whose compares fail is still a 200, with "succeeded": false.
//
// Errors are api.ErrorReply, {"error":"...","code":"..."}:
//
//	400 invalid              malformed JSON, base64, timeout, query or header; empty or too long key; bad txn;
//	                         a limit over MaxRangeLimit; a txn over MaxTxnOps or reading over MaxRangeLimit keys
//	404 key_not_found        GET of a missing key (a DELETE of one answers 200 with "deleted": 0)
//	404 member_not_found     DELETE /v1/members/<id> of a non-member
//	404 not_found            no such route
//	405 method_not_allowed   with an Allow header
//	409 member_exists        POST /v1/members of a member
//	412 precondition_failed  If-Match / If-None-Match did not hold
//	413 too_large            body over its limit
//	413 value_too_large      value over store.MaxValueSize (1 MiB)
//	431 too_large            request line and headers over MaxHeaderBytes (NewServer)
//	408 request_timeout      the request did not arrive within the read timeouts (NewServer)
//	503 not_ready            the node is replaying its log (nothing was done: safe to retry)
//	503 no_leader            no leader (nothing was done: safe to retry)
//	503 stopping             the node is shutting down (a write may still apply)
//	503 internal             an error the API did not expect (a write may still apply)
//	504 deadline_exceeded    the deadline passed first (a write may still apply)
//	499 client_gone          the client went away before the answer (under a net/http
//	                         server; NewServer's lets a request run to its deadline)
//
// The only 5xx statuses are 503 and 504 (and 507 for a full disk).
const V1Prefix = "/v1/"
