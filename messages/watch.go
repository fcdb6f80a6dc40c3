package messages

// EventType says what an Event did to its key.
type EventType uint8

// The kinds of change.
const (
	EventPut    EventType = 1
	EventDelete EventType = 2
)

// String is the name watchers see: "put" or "delete".
func (t EventType) String() string {
	if t == EventDelete {
		return "delete"
	}
	return "put"
}

// Event is one change of one key at one revision, as the store's history
// keeps it and a watch reports it.
type Event struct {
	Type EventType
	// KV is the key after a put; after a delete, the key with ModRevision
	// the delete's revision and nothing else.
	KV KeyValue
	// PrevKV is the key before the change; nil if it did not exist.
	PrevKV *KeyValue
}

// Revision is the revision of the change.
func (e *Event) Revision() int64 { return e.KV.ModRevision }
