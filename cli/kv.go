package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/client"
)

// kvCommands are the commands on keys.
func kvCommands() []*command {
	return []*command{
		{name: "put", args: "KEY VALUE|-", minArgs: 2, maxArgs: 2, setup: putCmd,
			summary: "set KEY to VALUE (\"-\": the bytes of stdin)"},
		{name: "get", args: "KEY", minArgs: 1, maxArgs: 1, setup: getCmd,
			summary: "print the value of KEY, its raw bytes (exit 1 if it does not exist)"},
		{name: "del", args: "KEY", minArgs: 1, maxArgs: 1, setup: delCmd,
			summary: "delete KEY, or with --prefix every key that starts with it (exit 1 if none was there)"},
		{name: "ls", minArgs: 0, maxArgs: 0, setup: lsCmd,
			summary: "list keys and values in key order, every page of the range",
			help: "Prints key<TAB>value lines (keys only with --keys-only). A key or value that\n" +
				"holds a control character or bytes that are not UTF-8 is printed quoted, Go\n" +
				"style; -o json gives the exact bytes. Each page is its own read."},
		{name: "cas", args: "KEY OLD NEW|-", minArgs: 2, maxArgs: 3, setup: casCmd,
			summary: "set KEY to NEW only if its value is OLD (or, with --mod-revision N, KEY NEW if it is at revision N); exit 1 if not",
			help: "With --mod-revision the arguments are KEY NEW; --mod-revision 0 creates KEY\n" +
				"only if it does not exist. The condition is checked by the state machine\n" +
				"when the write applies."},
		{name: "txn", minArgs: 0, maxArgs: 0, setup: txnCmd,
			summary: "run the transaction of stdin (the JSON body of POST /v1/txn); exit 1 if it took the failure branch",
			help: `Example:
  echo '{"compare":[{"key":"a","target":"version","result":"equal","version":0}],
         "success":[{"put":{"key":"a","value":"MQ=="}}],
         "failure":[{"get":{"key":"a"}}]}' | raftkv txn`},
	}
}

// value is the value argument of a command: the argument itself, or the
// bytes of stdin for "-".
func (e *env) value(arg string) ([]byte, error) {
	if arg != "-" {
		return []byte(arg), nil
	}
	return e.readStdin()
}

// readStdin reads all of stdin, up to maxInput bytes.
func (e *env) readStdin() ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(e.stdin, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > maxInput {
		return nil, usageErrorf("stdin holds more than %d bytes", maxInput)
	}
	return b, nil
}

func putCmd(fs *flag.FlagSet) func(*env, []string) error {
	lease := fs.Int64("lease", 0, "attach the key to lease `ID`: it goes when the lease ends")
	return func(e *env, args []string) error {
		value, err := e.value(args[1])
		if err != nil {
			return err
		}
		ctx, cancel := e.ctx()
		defer cancel()
		var opts []client.OpOption
		if *lease != 0 {
			opts = append(opts, client.WithLease(*lease))
		}
		resp, err := e.client.Put(ctx, args[0], value, opts...)
		if err != nil {
			return leaseGone(*lease, err)
		}
		if e.json() {
			return e.printJSON(resp)
		}
		_, err = fmt.Fprintln(e.stdout, "OK")
		return err
	}
}

func getCmd(fs *flag.FlagSet) func(*env, []string) error {
	serializable := fs.Bool("serializable", false, "read the member's local state: faster, works without a quorum, possibly stale")
	return func(e *env, args []string) error {
		ctx, cancel := e.ctx()
		defer cancel()
		var opts []client.OpOption
		if *serializable {
			opts = append(opts, client.WithSerializable())
		}
		resp, err := e.client.Get(ctx, args[0], opts...)
		if errors.Is(err, client.ErrNotFound) {
			return failedf("key %q not found", args[0])
		}
		if err != nil {
			return err
		}
		if e.json() {
			return e.printJSON(resp)
		}
		v := resp.KV.Value
		if isTerminal(e.stdout) && (len(v) == 0 || v[len(v)-1] != '\n') {
			v = append(v, '\n')
		}
		_, err = e.stdout.Write(v)
		return err
	}
}

// isTerminal tells whether w is a terminal: get then ends a value with a
// newline, so that the prompt starts on a line of its own.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func delCmd(fs *flag.FlagSet) func(*env, []string) error {
	prefix := fs.Bool("prefix", false, "delete every key that starts with KEY")
	return func(e *env, args []string) error {
		ctx, cancel := e.ctx()
		defer cancel()
		del := e.client.Delete
		if *prefix {
			del = e.client.DeletePrefix
		}
		resp, err := del(ctx, args[0])
		if err != nil {
			return err
		}
		if e.json() {
			err = e.printJSON(resp)
		} else {
			_, err = fmt.Fprintf(e.stdout, "%d deleted\n", resp.Deleted)
		}
		if err == nil && resp.Deleted == 0 {
			return &exitError{code: ExitFailed}
		}
		return err
	}
}

// printable is b for people: as it is when it is UTF-8 without control
// characters, else quoted Go style ("a\tb", "\xff").
func printable(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// printKV writes a key and value for people: key<TAB>value, or the key
// alone.
func (e *env) printKV(kv *client.KeyValue, keysOnly bool) error {
	var err error
	if keysOnly {
		_, err = fmt.Fprintln(e.stdout, printable(kv.KeyBytes()))
	} else {
		_, err = fmt.Fprintf(e.stdout, "%s\t%s\n", printable(kv.KeyBytes()), printable(kv.Value))
	}
	return err
}

func lsCmd(fs *flag.FlagSet) func(*env, []string) error {
	prefix := fs.String("prefix", "", "list the keys that start with `P`")
	start := fs.String("start", "", "list from the key `K` on (the first key if none)")
	end := fs.String("end", "", "list the keys before `K` (to the last key if none)")
	limit := fs.Int64("limit", 0, "stop after `N` keys in all (0: every key of the range); -o json then gives \"next\" to go on with --next")
	pageSize := fs.Int64("page-size", 0, fmt.Sprintf("ask for at most `N` keys a request (0: the member's default, %d; at most %d)", api.DefaultRangeLimit, api.MaxRangeLimit))
	next := fs.String("next", "", "go on after the listing whose -o json answer ended with \"next\": `TOKEN` (give the same --prefix, or --start and --end)")
	keysOnly := fs.Bool("keys-only", false, "print the keys only")
	serializable := fs.Bool("serializable", false, "read each page from the member's local state: possibly stale")
	return func(e *env, _ []string) error {
		switch {
		case isSet(fs, "prefix") && (isSet(fs, "start") || isSet(fs, "end")):
			return usageErrorf("give --prefix, or --start and --end, not both")
		case *limit < 0:
			return usageErrorf("--limit %d: must be 0 (no limit) or more", *limit)
		case *pageSize < 0 || *pageSize > api.MaxRangeLimit:
			return usageErrorf("--page-size %d: want 0 (the member's default) to %d", *pageSize, api.MaxRangeLimit)
		}
		out := &rangeWriter{e: e, keysOnly: *keysOnly}
		token, count := *next, int64(0)
		for {
			var opts []client.OpOption
			if *serializable {
				opts = append(opts, client.WithSerializable())
			}
			if token != "" {
				opts = append(opts, client.WithNext(token))
			}
			if n := pageLimit(*limit, *pageSize, count); n > 0 {
				opts = append(opts, client.WithLimit(n))
			}
			ctx, cancel := e.ctx()
			var page *client.RangeResponse
			var err error
			if isSet(fs, "prefix") {
				page, err = e.client.RangePrefix(ctx, *prefix, opts...)
			} else {
				page, err = e.client.Range(ctx, *start, *end, opts...)
			}
			cancel()
			if err != nil {
				return fmt.Errorf("after %s: %w", countOf(int(count), "key"), err)
			}
			if err := out.page(page); err != nil {
				return err
			}
			count += int64(len(page.KVs))
			if !page.More || (*limit > 0 && count >= *limit) {
				return out.finish(page)
			}
			token = page.Next
		}
	}
}

// pageLimit is the limit of the next request of ls, which has listed
// count keys of at most limit (0: no limit) in pages of pageSize (0: the
// member's default): 0 asks for the member's default page.
func pageLimit(limit, pageSize, count int64) int64 {
	n := pageSize
	if limit > 0 {
		n = limit - count
		if pageSize > 0 {
			n = min(n, pageSize)
		}
	}
	return min(n, api.MaxRangeLimit)
}

// rangeWriter writes the pages of a range as they come: lines for people,
// or one JSON object of the API's shape (a RangeReply holding every key
// listed; "more" and "next" when --limit stopped it early).
type rangeWriter struct {
	e        *env
	keysOnly bool
	started  bool
}

func (w *rangeWriter) page(p *client.RangeResponse) error {
	if !w.e.json() {
		for i := range p.KVs {
			if err := w.e.printKV(&p.KVs[i], w.keysOnly); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range p.KVs {
		b, err := json.Marshal(&p.KVs[i])
		if err != nil {
			return fmt.Errorf("encode the answer: %w", err)
		}
		sep := ","
		if !w.started {
			sep = `{"revision":` + strconv.FormatInt(p.Revision, 10) + `,"kvs":[`
			w.started = true
		}
		if _, err := io.WriteString(w.e.stdout, sep+string(b)); err != nil {
			return err
		}
	}
	return nil
}

func (w *rangeWriter) finish(last *client.RangeResponse) error {
	if !w.e.json() {
		return nil
	}
	if !w.started {
		_, err := io.WriteString(w.e.stdout, `{"revision":`+strconv.FormatInt(last.Revision, 10)+`,"kvs":[`)
		if err != nil {
			return err
		}
	}
	tail := `],"more":false}`
	if last.More {
		next, err := json.Marshal(last.Next)
		if err != nil {
			return fmt.Errorf("encode the answer: %w", err)
		}
		tail = `],"more":true,"next":` + string(next) + `}`
	}
	_, err := io.WriteString(w.e.stdout, tail+"\n")
	return err
}

func casCmd(fs *flag.FlagSet) func(*env, []string) error {
	modRevision := fs.Int64("mod-revision", 0, "swap only if KEY is at mod_revision `N` (0: only if it does not exist); then the arguments are KEY NEW")
	return func(e *env, args []string) error {
		byRevision := isSet(fs, "mod-revision")
		switch {
		case byRevision && len(args) != 2:
			return usageErrorf("with --mod-revision, give KEY NEW (%d arguments)", len(args))
		case !byRevision && len(args) != 3:
			return usageErrorf("give KEY OLD NEW, or KEY NEW with --mod-revision (%d arguments)", len(args))
		case *modRevision < 0:
			return usageErrorf("--mod-revision %d: must be 0 or more", *modRevision)
		}
		key := args[0]
		value, err := e.value(args[len(args)-1])
		if err != nil {
			return err
		}
		cmp := client.CompareModRevision(key, client.Equal, *modRevision)
		if !byRevision {
			cmp = client.CompareValue(key, client.Equal, []byte(args[1]))
		}
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := e.client.Txn(ctx, client.TxnRequest{
			Compare: []client.Compare{cmp},
			Success: []client.Op{client.OpPut(key, value)},
			Failure: []client.Op{client.OpGet(key)},
		})
		if err != nil {
			return err
		}
		if e.json() {
			err = e.printJSON(txnReply(resp))
		} else if resp.Succeeded {
			_, err = fmt.Fprintln(e.stdout, "OK")
		}
		if err != nil || resp.Succeeded {
			return err
		}
		if len(resp.Responses) == 1 && len(resp.Responses[0].KVs) == 1 {
			kv := resp.Responses[0].KVs[0]
			if byRevision {
				return failedf("condition failed: key %q is at mod_revision %d", key, kv.ModRevision)
			}
			return failedf("condition failed: the value of key %q is %s (mod_revision %d)", key, strconv.Quote(string(kv.Value)), kv.ModRevision)
		}
		return failedf("condition failed: key %q does not exist", key)
	}
}

func txnCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		body, err := e.readStdin()
		if err != nil {
			return err
		}
		req, err := parseTxn(body)
		if err != nil {
			return &exitError{ExitUsage, fmt.Errorf("stdin: %w", err)}
		}
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := e.client.Txn(ctx, req)
		if err != nil {
			return err
		}
		if e.json() {
			err = e.printJSON(txnReply(resp))
		} else {
			err = e.printTxn(resp)
		}
		if err == nil && !resp.Succeeded {
			return &exitError{code: ExitFailed}
		}
		return err
	}
}

// printTxn writes a transaction's outcome for people: SUCCEEDED or
// FAILED, then a line per op (OK for a put, key<TAB>value lines for a get,
// "N deleted" for a delete).
func (e *env) printTxn(resp *client.TxnResponse) error {
	outcome := "SUCCEEDED"
	if !resp.Succeeded {
		outcome = "FAILED"
	}
	if _, err := fmt.Fprintln(e.stdout, outcome); err != nil {
		return err
	}
	for _, r := range resp.Responses {
		var err error
		switch r.Type {
		case client.OpTypePut:
			_, err = fmt.Fprintln(e.stdout, "OK")
		case client.OpTypeDelete:
			_, err = fmt.Fprintf(e.stdout, "%d deleted\n", r.Deleted)
		default:
			for i := range r.KVs {
				if err = e.printKV(&r.KVs[i], false); err != nil {
					break
				}
			}
			if err == nil && r.More {
				_, err = fmt.Fprintln(e.stdout, "(the range goes on past these keys: list it with ls)")
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
