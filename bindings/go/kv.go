package lashup

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// FieldType is the type of a field of a key's value (lashup_kv_type_t).
type FieldType int

// Field types.
const (
	Counter  FieldType = 1
	Register FieldType = 2
	Flag     FieldType = 3
	Set      FieldType = 4
	Map      FieldType = 5
)

func (t FieldType) String() string {
	switch t {
	case Counter:
		return "counter"
	case Register:
		return "register"
	case Flag:
		return "flag"
	case Set:
		return "set"
	case Map:
		return "map"
	}
	return fmt.Sprintf("FieldType(%d)", int(t))
}

// Field is one field of a value: a name and a type, and the content of that
// type.
type Field struct {
	Name string
	Type FieldType

	Counter   int64    // Counter
	Register  []byte   // Register
	Timestamp uint64   // Register: the timestamp it was written with
	Flag      bool     // Flag
	Set       [][]byte // Set: sorted bytewise
	Map       []Field  // Map: nested fields, sorted by name then type
}

// Value is a key's value: its fields sorted by name, then type. It is a Go
// copy; Context is the compare-and-set token of the key at that moment.
type Value struct {
	Fields  []Field
	Context *Context
	// JSON is the library's rendering of the value (lashup_kv_value_json).
	JSON string
}

// Field finds the field of that name and type.
func (v *Value) Field(name string, t FieldType) (Field, bool) {
	if v == nil {
		return Field{}, false
	}
	return findField(v.Fields, name, t)
}

func findField(fields []Field, name string, t FieldType) (Field, bool) {
	for _, f := range fields {
		if f.Name == name && f.Type == t {
			return f, true
		}
	}
	return Field{}, false
}

// Counter is the counter of that name (0, false when absent).
func (v *Value) Counter(name string) (int64, bool) {
	f, ok := v.Field(name, Counter)
	return f.Counter, ok
}

// Register is the register of that name.
func (v *Value) Register(name string) ([]byte, bool) {
	f, ok := v.Field(name, Register)
	return f.Register, ok
}

// Set is the set of that name.
func (v *Value) Set(name string) ([][]byte, bool) {
	f, ok := v.Field(name, Set)
	return f.Set, ok
}

// Flag is the flag of that name (absent: false).
func (v *Value) Flag(name string) bool {
	f, _ := v.Field(name, Flag)
	return f.Flag
}

// Context is the causal context of a key's value, the token UpdateIf
// compares. It holds a C object, freed by Release or by the garbage
// collector.
type Context struct {
	mu sync.Mutex
	c  clashup.SwigcptrStruct_SS_lashup_kv_context
}

func newContext(c clashup.SwigcptrStruct_SS_lashup_kv_context) *Context {
	ctx := &Context{c: c}
	runtime.SetFinalizer(ctx, (*Context).Release)
	return ctx
}

// Release frees the context now; it then no longer works as a token.
func (c *Context) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != 0 {
		clashup.Lashup_kv_context_destroy(c.c)
		c.c = 0
	}
}

// valueOf copies a C value into Go. The context is taken for a top-level
// value only (a nested map has none).
func valueOf(v clashup.Struct_SS_lashup_kv_value) *Value {
	val := &Value{Fields: fieldsOf(v)}
	out := make([]clashup.SwigcptrStruct_SS_lashup_kv_context, 1)
	if clashup.Lashup_kv_value_context(v, out) == 0 {
		val.Context = newContext(out[0])
	}
	// A *string passed through cgo must point to memory without Go
	// pointers: a fresh empty string, not a field of val.
	var json string
	clashup.Lashup_kv_value_json(v, &json)
	val.JSON = json
	return val
}

func fieldsOf(v clashup.Struct_SS_lashup_kv_value) []Field {
	count := clashup.Lashup_kv_value_field_count(v)
	fields := make([]Field, 0, count)
	for i := int64(0); i < count; i++ {
		f := Field{Name: valueFieldName(v, i), Type: FieldType(clashup.Lashup_kv_value_field_type(v, i))}
		switch f.Type {
		case Counter:
			f.Counter = clashup.Lashup_kv_value_counter(v, i)
		case Register:
			f.Register, f.Timestamp = valueRegister(v, i)
		case Flag:
			f.Flag = clashup.Lashup_kv_value_flag(v, i) == 1
		case Set:
			size := clashup.Lashup_kv_value_set_size(v, i)
			f.Set = make([][]byte, 0, size)
			for e := int64(0); e < size; e++ {
				f.Set = append(f.Set, valueSetElement(v, i, e))
			}
		case Map:
			f.Map = fieldsOf(clashup.Lashup_kv_value_map(v, i))
		}
		fields = append(fields, f)
	}
	return fields
}

// Op is one operation of a write, made by CounterAdd, SetAdd, SetRemove,
// RegisterSet, FlagEnable, FlagDisable or RemoveField. A path names a field;
// "a/b/hits" is the field "hits" of the map "b" of the map "a".
type Op struct {
	name  string
	apply func(ops clashup.Struct_SS_lashup_kv_ops) int
}

// CounterAdd adds amount (negative: subtracts) to the counter at path.
func CounterAdd(path string, amount int64) Op {
	return Op{"lashup_kv_ops_counter_add", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_counter_add(o, path, amount)
	}}
}

// SetAdd adds element to the set at path.
func SetAdd(path string, element []byte) Op {
	return Op{"lashup_kv_ops_set_add", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_set_add(o, path, element)
	}}
}

// SetRemove removes element from the set at path (the write fails with
// ErrNotFound when it is not there).
func SetRemove(path string, element []byte) Op {
	return Op{"lashup_kv_ops_set_remove", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_set_remove(o, path, element)
	}}
}

// RegisterSet writes the register at path; the highest timestamp wins.
func RegisterSet(path string, value []byte, timestamp uint64) Op {
	return Op{"lashup_kv_ops_register_set", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_register_set(o, path, value, timestamp)
	}}
}

// FlagEnable enables the flag at path.
func FlagEnable(path string) Op {
	return Op{"lashup_kv_ops_flag_enable", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_flag_enable(o, path)
	}}
}

// FlagDisable disables the flag at path.
func FlagDisable(path string) Op {
	return Op{"lashup_kv_ops_flag_disable", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_flag_disable(o, path)
	}}
}

// RemoveField removes the field of type t at path (the write fails with
// ErrNotFound when there is none).
func RemoveField(path string, t FieldType) Op {
	return Op{"lashup_kv_ops_remove_field", func(o clashup.Struct_SS_lashup_kv_ops) int {
		return clashup.Lashup_kv_ops_remove_field(o, path, int(t))
	}}
}

// buildOps makes the C operation list; the caller destroys it.
func buildOps(ops []Op) (clashup.SwigcptrStruct_SS_lashup_kv_ops, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_kv_ops, 1)
	if err := call("lashup_kv_ops_new", func() int { return clashup.Lashup_kv_ops_new(out) }); err != nil {
		return 0, err
	}
	for _, op := range ops {
		if op.apply == nil {
			clashup.Lashup_kv_ops_destroy(out[0])
			return 0, &Error{Code: CodeInvalid, Op: "lashup_kv_update", Message: "a zero Op"}
		}
		if err := call(op.name, func() int { return op.apply(out[0]) }); err != nil {
			clashup.Lashup_kv_ops_destroy(out[0])
			return 0, err
		}
	}
	return out[0], nil
}

// Get reads key from this node's replica (ErrNotFound when absent).
func (n *Node) Get(key string) (*Value, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_kv_value, 1)
	err := n.use("lashup_kv_get", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_kv_get(c, []byte(key), out)
	})
	if err != nil {
		return nil, err
	}
	defer clashup.Lashup_kv_value_destroy(out[0])
	return valueOf(out[0]), nil
}

// Update applies ops to key atomically and returns the key's value after the
// write. It waits for the node's loop thread (the write is applied here,
// persisted and on its way to the other nodes); ctx is checked before the
// write is queued: a queued write is not taken back.
func (n *Node) Update(ctx context.Context, key string, ops ...Op) (*Value, error) {
	return n.update(ctx, key, nil, ops)
}

// UpdateIf is Update on condition that key has not changed since expected
// was taken (Value.Context): ErrConflict otherwise.
func (n *Node) UpdateIf(ctx context.Context, key string, expected *Context, ops ...Op) (*Value, error) {
	if expected == nil {
		return nil, &Error{Code: CodeInvalid, Op: "lashup_kv_update", Message: "UpdateIf without a context"}
	}
	return n.update(ctx, key, expected, ops)
}

func (n *Node) update(ctx context.Context, key string, expected *Context, ops []Op) (*Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := buildOps(ops)
	if err != nil {
		return nil, err
	}
	defer clashup.Lashup_kv_ops_destroy(o)
	out := make([]clashup.SwigcptrStruct_SS_lashup_kv_value, 1)
	err = n.withContext(expected, func(c clashup.SwigcptrStruct_SS_lashup_kv_context) error {
		return n.use("lashup_kv_update", func(node clashup.Struct_SS_lashup_node) int {
			return clashup.Lashup_kv_update(node, []byte(key), o, c, out)
		})
	})
	if err != nil {
		return nil, err
	}
	defer clashup.Lashup_kv_value_destroy(out[0])
	return valueOf(out[0]), nil
}

// withContext runs f with the C context of expected (0 for nil), which
// stays alive and unreleased until f returns.
func (n *Node) withContext(expected *Context, f func(clashup.SwigcptrStruct_SS_lashup_kv_context) error) error {
	if expected == nil {
		return f(0)
	}
	expected.mu.Lock()
	defer expected.mu.Unlock()
	if expected.c == 0 {
		return &Error{Code: CodeInvalid, Op: "lashup_kv_update", Message: "the context was released"}
	}
	err := f(expected.c)
	runtime.KeepAlive(expected)
	return err
}

// UpdateAsync queues the write of Update and returns at once; the channel
// receives the outcome (nil or an *Error) when the write is applied and
// persisted, and is never closed. ctx is not consulted after queueing.
// expected may be nil (no condition).
func (n *Node) UpdateAsync(ctx context.Context, key string, expected *Context, ops ...Op) (<-chan error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := buildOps(ops)
	if err != nil {
		return nil, err
	}
	defer clashup.Lashup_kv_ops_destroy(o)
	done := make(chan error, 1)
	id := make([]uint64, 1)
	n.routes.Lock()
	defer n.routes.Unlock()
	err = n.withContext(expected, func(c clashup.SwigcptrStruct_SS_lashup_kv_context) error {
		return n.use("lashup_kv_update_async", func(node clashup.Struct_SS_lashup_node) int {
			return clashup.Lashup_kv_update_async(node, []byte(key), o, c, id)
		})
	})
	if err != nil {
		return nil, err
	}
	n.updates[id[0]] = done
	return done, nil
}

// Delete removes every field of key this node has seen (ErrNotFound when
// the key holds none). Waits like Update.
func (n *Node) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.use("lashup_kv_delete", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_kv_delete(c, []byte(key))
	})
}

// Keys lists the live keys starting with prefix ("" lists all), sorted.
func (n *Node) Keys(prefix string) ([]string, error) { return n.keys(prefix, 0) }

// KeysGlob lists the live keys matching glob ('*' within a segment, '**'
// across segments, '?' one byte), sorted.
func (n *Node) KeysGlob(glob string) ([]string, error) { return n.keys(glob, 1) }

func (n *Node) keys(pattern string, glob int) ([]string, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_kv_keys, 1)
	err := n.use("lashup_kv_keys", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_kv_keys(c, pattern, glob, out)
	})
	if err != nil {
		return nil, err
	}
	defer clashup.Lashup_kv_keys_destroy(out[0])
	count := clashup.Lashup_kv_keys_count(out[0])
	keys := make([]string, 0, count)
	for i := int64(0); i < count; i++ {
		keys = append(keys, keysAt(out[0], i))
	}
	return keys, nil
}

// KVEvent is one event of a KV subscription.
type KVEvent struct {
	// DumpDone marks the end of the initial dump; the other fields are
	// empty then.
	DumpDone bool
	// Initial is true for the keys of the initial dump, false for changes.
	Initial bool
	Key     string
	// Value is the key's value when the event was made; nil when the key
	// was deleted.
	Value *Value
}

func kvEventOf(ev clashup.Struct_SS_lashup_event) KVEvent {
	if clashup.Lashup_event_type(ev) == eventKVDumpDone {
		return KVEvent{DumpDone: true}
	}
	e := KVEvent{Initial: clashup.Lashup_event_state(ev) == 1, Key: eventKey(ev)}
	if v := clashup.Lashup_event_kv_value(ev); v.Swigcptr() != 0 {
		e.Value = valueOf(v)
	}
	return e
}

// KVSubscription delivers the events of one KV subscription on C, which is
// closed by Close and when the node closes.
type KVSubscription struct {
	ID   uint64
	C    <-chan KVEvent
	n    *Node
	sink *sink[KVEvent]
}

// SubscribeKeys subscribes to the keys starting with prefix ("" covers
// every key): first one event per live key (Initial), then one DumpDone,
// then one event per change.
func (n *Node) SubscribeKeys(ctx context.Context, prefix string) (*KVSubscription, error) {
	return n.subscribeKeys(ctx, prefix, 0)
}

// SubscribeGlob is SubscribeKeys for the keys matching glob.
func (n *Node) SubscribeGlob(ctx context.Context, glob string) (*KVSubscription, error) {
	return n.subscribeKeys(ctx, glob, 1)
}

func (n *Node) subscribeKeys(ctx context.Context, pattern string, glob int) (*KVSubscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := newSink[KVEvent]()
	id := make([]uint64, 1)
	n.routes.Lock()
	defer n.routes.Unlock()
	err := n.use("lashup_kv_subscribe", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_kv_subscribe(c, pattern, glob, id)
	})
	if err != nil {
		return nil, err
	}
	sub := &KVSubscription{ID: id[0], C: s.ch, n: n, sink: s}
	n.kvSubs[id[0]] = sub
	return sub, nil
}

// Close ends the subscription and closes C. Events queued before stay
// undelivered.
func (s *KVSubscription) Close() error {
	n := s.n
	n.routes.Lock()
	_, live := n.kvSubs[s.ID]
	delete(n.kvSubs, s.ID)
	n.routes.Unlock()
	s.sink.close()
	if !live {
		return nil
	}
	err := n.use("lashup_kv_unsubscribe", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_kv_unsubscribe(c, s.ID)
	})
	if isClosed(err) {
		return nil
	}
	return err
}

func isClosed(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Code == CodeClosed
}
