package lashup

import (
	"context"
	"time"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// MemberState is a member's state as this node sees it.
type MemberState int

// Member states (lashup_member_state_t).
const (
	Reachable   MemberState = 0
	Unreachable MemberState = 1
	Left        MemberState = 2
)

func (s MemberState) String() string {
	switch s {
	case Reachable:
		return "reachable"
	case Unreachable:
		return "unreachable"
	case Left:
		return "left"
	}
	return "unknown"
}

// Member is one member of this node's view of the cluster.
type Member struct {
	Name        string
	Address     string
	State       MemberState
	Incarnation uint64
	// LastHeard is the time since the last record heard from the member
	// when the snapshot was taken (0 for this node).
	LastHeard time.Duration
	// Distance is the number of hops from this node; -1 when unreachable.
	Distance    int
	Metadata    []byte
	Neighbors   []string
	LinkReports []string
}

// Members is this node's view of the cluster (this node included), sorted
// by name.
func (n *Node) Members() ([]Member, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_members, 1)
	err := n.use("lashup_node_members", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_members(c, out)
	})
	if err != nil {
		return nil, err
	}
	m := out[0]
	defer clashup.Lashup_members_destroy(m)
	count := clashup.Lashup_members_count(m)
	members := make([]Member, 0, count)
	for i := int64(0); i < count; i++ {
		member := Member{
			Name:        clashup.Lashup_members_name(m, i),
			Address:     clashup.Lashup_members_address(m, i),
			State:       MemberState(clashup.Lashup_members_state(m, i)),
			Incarnation: clashup.Lashup_members_incarnation(m, i),
			LastHeard:   time.Duration(clashup.Lashup_members_last_heard_ms(m, i)) * time.Millisecond,
			Distance:    -1,
			Metadata:    memberMetadata(m, i),
		}
		if d := clashup.Lashup_members_distance(m, i); d != 0xFFFFFFFF {
			member.Distance = int(d)
		}
		for j, nc := int64(0), clashup.Lashup_members_neighbor_count(m, i); j < nc; j++ {
			member.Neighbors = append(member.Neighbors, clashup.Lashup_members_neighbor(m, i, j))
		}
		for j, lc := int64(0), clashup.Lashup_members_link_report_count(m, i); j < lc; j++ {
			member.LinkReports = append(member.LinkReports, clashup.Lashup_members_link_report(m, i, j))
		}
		members = append(members, member)
	}
	return members, nil
}

// Reachable reports whether name is reachable from this node (false for a
// name that is not a member).
func (n *Node) Reachable(name string) (bool, error) {
	out := make([]bool, 1)
	err := n.use("lashup_node_reachable", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_reachable(c, name, out)
	})
	return out[0], err
}

// Distance is the number of hops to name (ErrNotFound when unknown or
// unreachable).
func (n *Node) Distance(name string) (int, error) {
	out := make([]uint32, 1)
	err := n.use("lashup_node_distance", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_distance(c, name, out)
	})
	return int(out[0]), err
}

// RouteHop is one node of a route tree: its parent ("" for the root) and
// its distance from the root.
type RouteHop struct {
	Node     string
	Parent   string
	Distance int
}

// RouteTree is the breadth-first tree rooted at root over the overlay,
// sorted by (distance, name) (ErrNotFound for an unknown root).
func (n *Node) RouteTree(root string) ([]RouteHop, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_route_tree, 1)
	err := n.use("lashup_node_route_tree", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_route_tree(c, root, out)
	})
	if err != nil {
		return nil, err
	}
	t := out[0]
	defer clashup.Lashup_route_tree_destroy(t)
	count := clashup.Lashup_route_tree_count(t)
	hops := make([]RouteHop, 0, count)
	for i := int64(0); i < count; i++ {
		hops = append(hops, RouteHop{
			Node:     clashup.Lashup_route_tree_node(t, i),
			Parent:   clashup.Lashup_route_tree_parent(t, i),
			Distance: int(clashup.Lashup_route_tree_distance(t, i)),
		})
	}
	return hops, nil
}

// HealthResult is the answer to a health check.
type HealthResult struct {
	Alive bool
	RTT   time.Duration // when alive
}

// HealthCheck probes name directly and waits for the answer, for ctx to end
// (its error is returned) or for the node to close (ErrClosed).
func (n *Node) HealthCheck(ctx context.Context, name string) (HealthResult, error) {
	if err := ctx.Err(); err != nil {
		return HealthResult{}, err
	}
	ch := make(chan HealthResult, 1)
	id := make([]uint64, 1)
	n.routes.Lock()
	err := n.use("lashup_node_health_check", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_health_check(c, name, id)
	})
	if err == nil {
		n.health[id[0]] = ch
	}
	n.routes.Unlock()
	if err != nil {
		return HealthResult{}, err
	}
	forget := func() {
		n.routes.Lock()
		delete(n.health, id[0])
		n.routes.Unlock()
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		forget()
		return HealthResult{}, ctx.Err()
	case <-n.closing:
		forget()
		return HealthResult{}, closedError("lashup_node_health_check")
	}
}
