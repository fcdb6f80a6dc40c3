package store

import (
	"errors"
	"fmt"

	"github.com/raftkv/raftkv/messages"
)

// Limits that Validate enforces on a transaction before it is proposed.
const (
	// MaxKeySize is the largest key, and range end, in bytes.
	MaxKeySize = 4096
	// MaxValueSize is the largest value of a Put or Compare, in bytes.
	MaxValueSize = 1 << 20
	// MaxTxnOps is the most compares, and the most ops of each branch, one
	// transaction may have.
	MaxTxnOps = 128
)

// ErrInvalid is wrapped by every error of Validate.
var ErrInvalid = errors.New("raftkv: invalid request")

// Validate checks a txn before it is proposed, and returns an error wrapping
// ErrInvalid that says what is wrong with it, or nil. It checks:
//
//   - at most MaxTxnOps compares, and at most MaxTxnOps ops in each branch;
//   - each compare has a non-empty key of at most MaxKeySize bytes, a known
//     target and result (TargetExists only with Equal or NotEqual), and a
//     value of at most MaxValueSize bytes;
//   - each op has a known type; a Put has a non-empty key, no End, no Limit
//     and a value of at most MaxValueSize bytes; a Get or Delete has no
//     Value, a non-empty key unless End is set (an empty Key with an End
//     starts at the first key), Key and End of at most MaxKeySize bytes; a
//     Get's Limit is not negative and a Delete has no Limit.
//
// Validate does not reject an End <= Key (an empty range), nor several
// writes of one key in a txn (they apply in order).
func Validate(txn messages.Txn) error {
	if n := len(txn.Compares); n > MaxTxnOps {
		return fmt.Errorf("%w: %d compares, more than %d", ErrInvalid, n, MaxTxnOps)
	}
	for i := range txn.Compares {
		if err := validateCompare(&txn.Compares[i]); err != nil {
			return fmt.Errorf("%w: compare %d: %s", ErrInvalid, i, err)
		}
	}
	for _, b := range []struct {
		name string
		ops  []messages.Op
	}{{"success", txn.Success}, {"failure", txn.Failure}} {
		if n := len(b.ops); n > MaxTxnOps {
			return fmt.Errorf("%w: %d %s ops, more than %d", ErrInvalid, n, b.name, MaxTxnOps)
		}
		for i := range b.ops {
			if err := validateOp(&b.ops[i]); err != nil {
				return fmt.Errorf("%w: %s op %d: %s", ErrInvalid, b.name, i, err)
			}
		}
	}
	return nil
}

func validateKey(name string, key []byte) error {
	if len(key) > MaxKeySize {
		return fmt.Errorf("%s is %d bytes, more than %d", name, len(key), MaxKeySize)
	}
	return nil
}

func validateCompare(c *messages.Compare) error {
	if len(c.Key) == 0 {
		return errors.New("empty key")
	}
	if err := validateKey("key", c.Key); err != nil {
		return err
	}
	if len(c.Value) > MaxValueSize {
		return fmt.Errorf("value is %d bytes, more than %d", len(c.Value), MaxValueSize)
	}
	switch c.Target {
	case messages.TargetValue, messages.TargetModRevision, messages.TargetCreateRevision, messages.TargetVersion:
		switch c.Result {
		case messages.Equal, messages.NotEqual, messages.Greater, messages.Less:
		default:
			return fmt.Errorf("unknown result %d", c.Result)
		}
	case messages.TargetExists:
		switch c.Result {
		case messages.Equal, messages.NotEqual:
		default:
			return fmt.Errorf("result %d with target exists: only equal or not equal", c.Result)
		}
	default:
		return fmt.Errorf("unknown target %d", c.Target)
	}
	return nil
}

func validateOp(op *messages.Op) error {
	switch op.Type {
	case messages.OpPut:
		if len(op.Key) == 0 {
			return errors.New("put: empty key")
		}
		if err := validateKey("put: key", op.Key); err != nil {
			return err
		}
		if len(op.End) != 0 {
			return errors.New("put: a range end is not allowed")
		}
		if op.Limit != 0 {
			return errors.New("put: a limit is not allowed")
		}
		if len(op.Value) > MaxValueSize {
			return fmt.Errorf("put: value is %d bytes, more than %d", len(op.Value), MaxValueSize)
		}
		if op.Lease < 0 {
			return fmt.Errorf("put: lease %d is not a lease id", op.Lease)
		}
		if op.Revision != 0 {
			return errors.New("put: a revision is not allowed")
		}
	case messages.OpGet, messages.OpDelete:
		name := "get"
		if op.Type == messages.OpDelete {
			name = "delete"
		}
		if len(op.Key) == 0 && len(op.End) == 0 {
			return fmt.Errorf("%s: empty key", name)
		}
		if err := validateKey(name+": key", op.Key); err != nil {
			return err
		}
		if err := validateKey(name+": range end", op.End); err != nil {
			return err
		}
		if len(op.Value) != 0 {
			return fmt.Errorf("%s: a value is not allowed", name)
		}
		if op.Lease != 0 {
			return fmt.Errorf("%s: a lease is not allowed", name)
		}
		if op.Revision < 0 || (op.Type == messages.OpDelete && op.Revision != 0) {
			return fmt.Errorf("%s: revision %d is not allowed", name, op.Revision)
		}
		if op.Type == messages.OpDelete && op.Limit != 0 {
			return errors.New("delete: a limit is not allowed")
		}
		if op.Limit < 0 {
			return fmt.Errorf("get: negative limit %d", op.Limit)
		}
	default:
		return fmt.Errorf("unknown op type %d", op.Type)
	}
	return nil
}
