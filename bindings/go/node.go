package lashup

import (
	"context"
	"sort"
	"sync"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// Config holds configuration keys and values (docs/CONFIG.md), e.g.
//
//	lashup.Config{"node_name": "a", "data_dir": dir, "listen_address": "127.0.0.1:0"}
type Config map[string]string

// ConfigKeys lists every configuration key the library knows.
func ConfigKeys() []string {
	n := clashup.Lashup_config_key_count()
	keys := make([]string, 0, n)
	for i := int64(0); i < n; i++ {
		keys = append(keys, clashup.Lashup_config_key_name(i))
	}
	return keys
}

// Version is the version of the library actually loaded.
func Version() string { return clashup.Lashup_version_string() }

// pollTimeoutMs bounds each wait of the event goroutine, so that it notices
// a closing node even if a wakeup were missed.
const pollTimeoutMs = 250

// Node is one member of a cluster. Its methods may be called from any
// goroutine. Close it exactly when done: it stops the node, ends the event
// goroutine, closes every subscription channel and frees the C node.
type Node struct {
	name string

	// mu is held shared around every call on c and exclusively by Close to
	// destroy it: lashup_node_destroy must not race other calls.
	mu        sync.RWMutex
	c         clashup.Struct_SS_lashup_node
	destroyed bool
	started   bool

	closing    chan struct{}
	closeOnce  sync.Once
	closeErr   error
	pollerDone chan struct{}

	// routes guards where events go. A call that obtains an id the events
	// carry (subscription, health check, async update) holds it across the
	// C call, so the event goroutine cannot look up the id before it is
	// registered.
	routes     sync.Mutex
	kvSubs     map[uint64]*KVSubscription
	topics     map[string][]*TopicSubscription
	memberSubs []*MemberSubscription
	health     map[uint64]chan HealthResult
	updates    map[uint64]chan error
}

// NewNode creates a node from cfg (keys set in sorted order; the first bad
// one is reported). Nothing runs until Start.
func NewNode(cfg Config) (*Node, error) {
	out := make([]clashup.SwigcptrStruct_SS_lashup_config, 1)
	if err := call("lashup_config_new", func() int { return clashup.Lashup_config_new(out) }); err != nil {
		return nil, err
	}
	conf := out[0]
	defer clashup.Lashup_config_destroy(conf)

	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	errbuf := make([]byte, 512)
	for _, k := range keys {
		rc := clashup.Lashup_config_set(conf, k, cfg[k], errbuf)
		if err := errbufError("lashup_config_set", rc, errbuf); err != nil {
			return nil, err
		}
	}
	nodeOut := make([]clashup.SwigcptrStruct_SS_lashup_node, 1)
	rc := clashup.Lashup_node_new(nodeOut, conf, errbuf)
	if err := errbufError("lashup_node_new", rc, errbuf); err != nil {
		return nil, err
	}
	n := &Node{
		c:          nodeOut[0],
		closing:    make(chan struct{}),
		pollerDone: make(chan struct{}),
		kvSubs:     map[uint64]*KVSubscription{},
		topics:     map[string][]*TopicSubscription{},
		health:     map[uint64]chan HealthResult{},
		updates:    map[uint64]chan error{},
	}
	n.name = clashup.Lashup_node_name(n.c)
	return n, nil
}

// use runs f on the C node unless the node is closed.
func (n *Node) use(op string, f func(c clashup.Struct_SS_lashup_node) int) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.destroyed {
		return closedError(op)
	}
	return call(op, func() int { return f(n.c) })
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Start opens the store, binds the listen address, starts the loop thread
// and the goroutine that delivers events to channels.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.destroyed {
		return closedError("lashup_node_start")
	}
	if err := call("lashup_node_start", func() int { return clashup.Lashup_node_start(n.c) }); err != nil {
		return err
	}
	if !n.started {
		n.started = true
		go n.pollEvents()
	}
	return nil
}

// Close stops the node (waking every goroutine that waits on it), waits for
// the event goroutine and for calls still inside the library, closes all
// subscription channels and frees the node. Idempotent; calls after Close
// return ErrClosed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.closing)
		n.closeErr = n.use("lashup_node_stop", func(c clashup.Struct_SS_lashup_node) int {
			return clashup.Lashup_node_stop(c)
		})
		n.mu.RLock()
		started := n.started
		n.mu.RUnlock()
		if started {
			<-n.pollerDone
		} else {
			n.closeRoutes()
		}
		n.mu.Lock()
		clashup.Lashup_node_destroy(n.c)
		n.destroyed = true
		n.mu.Unlock()
	})
	return n.closeErr
}

// Leave announces a graceful leave; Close afterwards.
func (n *Node) Leave(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.use("lashup_node_leave", func(c clashup.Struct_SS_lashup_node) int { return clashup.Lashup_node_leave(c) })
}

// Address is the host:port peers reach this node at (after Start).
func (n *Node) Address() (string, error) {
	var s string
	err := n.use("lashup_node_address", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_address(c, &s)
	})
	return s, err
}

// Contact is "name@host:port", the form contact_nodes takes.
func (n *Node) Contact() (string, error) {
	addr, err := n.Address()
	if err != nil {
		return "", err
	}
	return n.name + "@" + addr, nil
}

// Incarnation is this run's incarnation (after Start).
func (n *Node) Incarnation() (uint64, error) {
	out := make([]uint64, 1)
	err := n.use("lashup_node_incarnation", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_incarnation(c, out)
	})
	return out[0], err
}

// SetMetadata replaces this node's metadata (flooded to every member).
func (n *Node) SetMetadata(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.use("lashup_node_set_metadata", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_set_metadata(c, data)
	})
}

// Stat reads one counter or gauge of the latest snapshot, e.g. "members".
func (n *Node) Stat(name string) (uint64, error) {
	out := make([]uint64, 1)
	err := n.use("lashup_node_stat", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_node_stat(c, name, out)
	})
	return out[0], err
}
