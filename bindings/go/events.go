package lashup

import (
	"sync"
	"time"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// Event types of the C API (lashup_event_type_t).
const (
	eventHealthCheck  = 5
	eventMCMessage    = 7
	eventKVChanged    = 8
	eventKVDumpDone   = 9
	eventKVUpdateDone = 10
)

// pollEvents is the node's one event goroutine: it drains lashup_node_poll
// (no C code ever calls into Go) and hands each event to the channel or
// waiter it belongs to. It ends when the stopped node's queue is drained.
func (n *Node) pollEvents() {
	defer close(n.pollerDone)
	defer n.closeRoutes()
	out := make([]clashup.SwigcptrStruct_SS_lashup_event, 1)
	for {
		// The node is destroyed only after this goroutine ends, so the
		// handle stays valid here without taking n.mu.
		rc := clashup.Lashup_node_poll(n.c, out, pollTimeoutMs)
		if Code(rc) == CodeAgain {
			continue
		}
		if rc != 0 {
			return // CodeClosed: stopped and drained
		}
		ev := out[0]
		n.dispatch(ev)
		clashup.Lashup_event_destroy(ev)
	}
}

func (n *Node) dispatch(ev clashup.Struct_SS_lashup_event) {
	switch clashup.Lashup_event_type(ev) {
	case eventKVChanged, eventKVDumpDone:
		id := clashup.Lashup_event_subscription(ev)
		n.routes.Lock()
		sub := n.kvSubs[id]
		n.routes.Unlock()
		if sub != nil {
			sub.sink.send(kvEventOf(ev), n.closing)
		}
	case eventMCMessage:
		topic := clashup.Lashup_event_topic(ev)
		n.routes.Lock()
		subs := append([]*TopicSubscription(nil), n.topics[topic]...)
		n.routes.Unlock()
		if len(subs) == 0 {
			return
		}
		msg := Message{
			Topic:       topic,
			Origin:      clashup.Lashup_event_node(ev),
			Incarnation: clashup.Lashup_event_incarnation(ev),
			Sequence:    clashup.Lashup_event_sequence(ev),
			Payload:     eventPayload(ev),
		}
		for _, s := range subs {
			s.sink.send(msg, n.closing)
		}
	case eventHealthCheck:
		id := clashup.Lashup_event_request_id(ev)
		n.routes.Lock()
		ch := n.health[id]
		delete(n.health, id)
		n.routes.Unlock()
		if ch != nil {
			ch <- HealthResult{
				Alive: clashup.Lashup_event_state(ev) == 1,
				RTT:   time.Duration(clashup.Lashup_event_rtt_us(ev)) * time.Microsecond,
			}
		}
	case eventKVUpdateDone:
		id := clashup.Lashup_event_request_id(ev)
		n.routes.Lock()
		ch := n.updates[id]
		delete(n.updates, id)
		n.routes.Unlock()
		if ch != nil {
			var err error
			if rc := clashup.Lashup_event_status(ev); rc < 0 {
				err = &Error{Code: Code(rc), Op: "lashup_kv_update_async", Message: clashup.Lashup_event_error(ev)}
			}
			ch <- err
		}
	case int(MemberUpdated), int(MemberRemoved), int(Reachability), int(LinkReport), int(Neighbor):
		n.routes.Lock()
		subs := append([]*MemberSubscription(nil), n.memberSubs...)
		n.routes.Unlock()
		if len(subs) == 0 {
			return
		}
		e := memberEventOf(ev, MemberEventType(clashup.Lashup_event_type(ev)))
		for _, s := range subs {
			s.sink.send(e, n.closing)
		}
	}
}

// closeRoutes closes every subscription channel and wakes every waiter; the
// event goroutine runs it when it ends.
func (n *Node) closeRoutes() {
	n.routes.Lock()
	kv := n.kvSubs
	topics := n.topics
	updates := n.updates
	members := n.memberSubs
	n.memberSubs = nil
	n.kvSubs = map[uint64]*KVSubscription{}
	n.topics = map[string][]*TopicSubscription{}
	n.updates = map[uint64]chan error{}
	n.routes.Unlock()
	// A write still queued when the node stops is not applied.
	for _, ch := range updates {
		ch <- closedError("lashup_kv_update_async")
	}
	for _, s := range kv {
		s.sink.close()
	}
	for _, s := range members {
		s.sink.close()
	}
	for _, subs := range topics {
		for _, s := range subs {
			s.sink.close()
		}
	}
}

// sink is the channel of one subscription. The event goroutine is the only
// sender; close may come from any goroutine (Close of the subscription or of
// the node) and never races a send.
type sink[T any] struct {
	ch     chan T
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	closed bool
}

// subscriptionBuffer is the capacity of each subscription channel. A
// consumer that falls further behind holds up the node's event goroutine;
// the C queue then drops its oldest events (events.queue_max).
const subscriptionBuffer = 256

func newSink[T any]() *sink[T] {
	return &sink[T]{ch: make(chan T, subscriptionBuffer), done: make(chan struct{})}
}

func (s *sink[T]) send(v T, closing <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- v:
	case <-s.done:
	case <-closing:
	}
}

func (s *sink[T]) close() {
	s.once.Do(func() {
		close(s.done) // wakes a send blocked on a full channel
		s.mu.Lock()
		s.closed = true
		close(s.ch)
		s.mu.Unlock()
	})
}
