package lashup

import (
	"context"
	"time"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// MemberEventType is the kind of a membership event.
type MemberEventType int

// Membership event types (the lashup_event_type_t values they mirror).
const (
	MemberUpdated MemberEventType = 1 // a member appeared, or its address, incarnation or metadata changed
	MemberRemoved MemberEventType = 2 // a member was forgotten
	Reachability  MemberEventType = 3 // State: Reachable, Unreachable or Left
	LinkReport    MemberEventType = 4 // Node cannot reach Peer directly (Active) or no longer
	Neighbor      MemberEventType = 6 // an overlay neighbour of this node came (Active) or went
)

func (t MemberEventType) String() string {
	switch t {
	case MemberUpdated:
		return "member-updated"
	case MemberRemoved:
		return "member-removed"
	case Reachability:
		return "reachability"
	case LinkReport:
		return "link-report"
	case Neighbor:
		return "neighbor"
	}
	return "unknown"
}

// MemberEvent is one membership event of this node's failure detector.
type MemberEvent struct {
	Type        MemberEventType
	Node        string      // the member (LinkReport: the reporter)
	Peer        string      // LinkReport: the node the reporter cannot reach
	State       MemberState // Reachability
	Active      bool        // LinkReport, Neighbor
	Incarnation uint64      // MemberUpdated
	Time        time.Duration
}

func memberEventOf(ev clashup.Struct_SS_lashup_event, t MemberEventType) MemberEvent {
	state := clashup.Lashup_event_state(ev)
	e := MemberEvent{
		Type:        t,
		Node:        clashup.Lashup_event_node(ev),
		Peer:        clashup.Lashup_event_peer(ev),
		Incarnation: clashup.Lashup_event_incarnation(ev),
		Time:        time.Duration(clashup.Lashup_event_time_us(ev)) * time.Microsecond,
	}
	if t == Reachability {
		e.State = MemberState(state)
	} else {
		e.Active = state == 1
	}
	return e
}

// MemberSubscription delivers membership events on C, which is closed by
// Close and when the node closes.
type MemberSubscription struct {
	C    <-chan MemberEvent
	n    *Node
	sink *sink[MemberEvent]
}

// SubscribeMembers delivers the membership events queued from now on
// (changes only: read Members for the current view).
func (n *Node) SubscribeMembers(ctx context.Context) (*MemberSubscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := newSink[MemberEvent]()
	sub := &MemberSubscription{C: s.ch, n: n, sink: s}
	n.routes.Lock()
	defer n.routes.Unlock()
	// Checked under routes: closeRoutes, which closes the channels, runs
	// after closing is closed and takes routes too.
	select {
	case <-n.closing:
		return nil, closedError("SubscribeMembers")
	default:
	}
	n.memberSubs = append(n.memberSubs, sub)
	return sub, nil
}

// Close ends the subscription and closes C.
func (s *MemberSubscription) Close() error {
	n := s.n
	n.routes.Lock()
	for i, x := range n.memberSubs {
		if x == s {
			n.memberSubs = append(n.memberSubs[:i:i], n.memberSubs[i+1:]...)
			break
		}
	}
	n.routes.Unlock()
	s.sink.close()
	return nil
}
