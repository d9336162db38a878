package lashup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One cluster of three nodes (tls off, loopback, port 0) for the whole
// suite; a, b and c joined through a.
var a, b, c *Node

const converge = 20 * time.Second

func testConfig(name, dataDir, contacts string) Config {
	cfg := Config{
		"node_name":      name,
		"data_dir":       dataDir,
		"listen_address": "127.0.0.1:0",
		"tls":            "off",
		"durability":     "none",
		"log.level":      "error",
	}
	if contacts != "" {
		cfg["contact_nodes"] = contacts
	}
	return cfg
}

func startNode(name, dataDir, contacts string) (*Node, error) {
	n, err := NewNode(testConfig(name, dataDir, contacts))
	if err != nil {
		return nil, err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func meshed(nodes ...*Node) bool {
	for _, x := range nodes {
		for _, y := range nodes {
			ok, err := x.Reachable(y.Name())
			if err != nil || !ok {
				return false
			}
		}
	}
	return true
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lashup-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		var err error
		if a, err = startNode("a", dir+"/a", ""); err != nil {
			fmt.Fprintln(os.Stderr, "start a:", err)
			return 1
		}
		defer a.Close()
		contact, err := a.Contact()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if b, err = startNode("b", dir+"/b", contact); err != nil {
			fmt.Fprintln(os.Stderr, "start b:", err)
			return 1
		}
		defer b.Close()
		if c, err = startNode("c", dir+"/c", contact); err != nil {
			fmt.Fprintln(os.Stderr, "start c:", err)
			return 1
		}
		defer c.Close()
		if !eventually(converge, func() bool { return meshed(a, b, c) }) {
			fmt.Fprintln(os.Stderr, "the three nodes did not see each other in time")
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), converge)
	t.Cleanup(cancel)
	return ctx
}

var runs atomic.Int64

// keyspace is a key prefix of its own for each run of a test, so that the
// tests also pass with -count=N on the one cluster.
func keyspace(t *testing.T) string {
	return fmt.Sprintf("go/%s/%d/", t.Name(), runs.Add(1))
}

// receive takes the next value of ch, failing the test after converge.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the channel closed", what)
		}
		return v
	case <-time.After(converge):
		t.Fatalf("%s: nothing arrived", what)
	}
	panic("unreachable")
}

func TestMembersAndRoutesCoverTheCluster(t *testing.T) {
	members, err := a.Members()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range members {
		if m.Name == "e" { // joins and fails in TestMemberEvents (with -count=N)
			continue
		}
		names = append(names, m.Name)
		if m.State != Reachable || m.Distance < 0 || m.Address == "" {
			t.Errorf("member %+v: want reachable with a distance and an address", m)
		}
	}
	if got := strings.Join(names, ","); got != "a,b,c" {
		t.Fatalf("members = %s, want a,b,c", got)
	}
	// The tree follows the neighbours each member announced, which settle
	// again after a member fails (TestMemberEvents, with -count=N).
	var tree []RouteHop
	covers := func() bool {
		if tree, err = b.RouteTree("a"); err != nil {
			return false
		}
		seen := map[string]bool{}
		for _, hop := range tree {
			seen[hop.Node] = true
		}
		return seen["a"] && seen["b"] && seen["c"]
	}
	if !eventually(converge, covers) {
		t.Fatalf("route tree from a = %+v, %v", tree, err)
	}
	if tree[0].Node != "a" || tree[0].Parent != "" || tree[0].Distance != 0 {
		t.Fatalf("route tree from a = %+v", tree)
	}
	if _, err := b.RouteTree("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("route tree of an unknown root: %v, want ErrNotFound", err)
	}
	if ok, err := a.Reachable("nobody"); err != nil || ok {
		t.Fatalf("Reachable(nobody) = %v, %v", ok, err)
	}
}

func TestHealthCheckOfAPeerIsAlive(t *testing.T) {
	r, err := a.HealthCheck(ctx(t), "c")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Alive {
		t.Fatalf("health check of c: %+v, want alive", r)
	}
	r, err = a.HealthCheck(ctx(t), "nobody")
	if err != nil || r.Alive {
		t.Fatalf("health check of an unknown name: %+v, %v, want not alive", r, err)
	}
}

func TestKVWriteOnOneNodeIsReadOnTheOthers(t *testing.T) {
	ks := keyspace(t)
	v, err := a.Update(ctx(t), ks+"across", CounterAdd("hits", 3), RegisterSet("color", []byte("red"), 1),
		SetAdd("tags", []byte("x")), SetAdd("tags", []byte("y")), FlagEnable("on"), CounterAdd("sub/n", 7))
	if err != nil {
		t.Fatal(err)
	}
	if hits, _ := v.Counter("hits"); hits != 3 {
		t.Fatalf("value after the write: %s", v.JSON)
	}
	for _, n := range []*Node{b, c} {
		var got *Value
		if !eventually(converge, func() bool {
			got, err = n.Get(ks + "across")
			return err == nil
		}) {
			t.Fatalf("%s never read the key: %v", n.Name(), err)
		}
		hits, _ := got.Counter("hits")
		color, _ := got.Register("color")
		tags, _ := got.Set("tags")
		sub, ok := got.Field("sub", Map)
		if hits != 3 || string(color) != "red" || len(tags) != 2 || !got.Flag("on") || !ok {
			t.Fatalf("%s read %s", n.Name(), got.JSON)
		}
		if n, ok := findField(sub.Map, "n", Counter); !ok || n.Counter != 7 {
			t.Fatalf("nested counter: %+v", sub)
		}
	}
	keys, err := c.Keys(ks)
	if err != nil || len(keys) != 1 || keys[0] != ks+"across" {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	keys, err = c.KeysGlob("go/*/" + strings.Split(ks, "/")[2] + "/across")
	if err != nil || len(keys) != 1 {
		t.Fatalf("KeysGlob = %v, %v", keys, err)
	}
	if err := a.Delete(ctx(t), ks+"across"); err != nil {
		t.Fatal(err)
	}
	if !eventually(converge, func() bool {
		_, err := b.Get(ks + "across")
		return errors.Is(err, ErrNotFound)
	}) {
		t.Fatal("the delete did not reach b")
	}
}

func TestSubscriptionDeliversAWriteOfAnotherNode(t *testing.T) {
	ks := keyspace(t)
	if _, err := a.Update(ctx(t), ks+"before", CounterAdd("n", 1)); err != nil {
		t.Fatal(err)
	}
	if !eventually(converge, func() bool { _, err := c.Get(ks + "before"); return err == nil }) {
		t.Fatal("the first key did not reach c")
	}
	sub, err := c.SubscribeKeys(ctx(t), ks)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := receive(t, sub.C, "the initial dump")
	if !first.Initial || first.Key != ks+"before" || first.Value == nil {
		t.Fatalf("first event = %+v, want the initial dump of go/sub/before", first)
	}
	if done := receive(t, sub.C, "the end of the dump"); !done.DumpDone {
		t.Fatalf("second event = %+v, want DumpDone", done)
	}
	if _, err := b.Update(ctx(t), ks+"after", RegisterSet("r", []byte("hello"), 5)); err != nil {
		t.Fatal(err)
	}
	ev := receive(t, sub.C, "the event of b's write")
	if r, _ := ev.Value.Register("r"); ev.Initial || ev.Key != ks+"after" || string(r) != "hello" {
		t.Fatalf("change event = %+v", ev)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		for range sub.C {
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(converge):
		t.Fatal("the channel stays open after Close")
	}
}

func TestMulticastReachesEverySubscriber(t *testing.T) {
	var subs []*TopicSubscription
	for _, n := range []*Node{a, b, c} {
		s, err := n.SubscribeTopic(ctx(t), "go-test")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, s)
	}
	payload := []byte("over the tree\x00with a NUL")
	seq, err := b.Publish(ctx(t), "go-test", payload)
	if err != nil {
		t.Fatal(err)
	}
	if seq == 0 {
		t.Fatal("sequence 0")
	}
	for i, s := range subs {
		m := receive(t, s.C, fmt.Sprintf("subscriber %d", i))
		if m.Origin != "b" || m.Sequence != seq || m.Topic != "go-test" || !bytes.Equal(m.Payload, payload) {
			t.Fatalf("subscriber %d got %+v", i, m)
		}
	}
}

func TestUpdateIfWithAStaleContextConflicts(t *testing.T) {
	ks := keyspace(t)
	v1, err := a.Update(ctx(t), ks+"cas", CounterAdd("n", 1))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := a.UpdateIf(ctx(t), ks+"cas", v1.Context, CounterAdd("n", 1))
	if err != nil {
		t.Fatalf("UpdateIf with the current context: %v", err)
	}
	if n, _ := v2.Counter("n"); n != 2 {
		t.Fatalf("after the conditional write: %s", v2.JSON)
	}
	_, err = a.UpdateIf(ctx(t), ks+"cas", v1.Context, CounterAdd("n", 1))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("UpdateIf with a stale context: %v, want ErrConflict", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeConflict || e.Op != "lashup_kv_update" {
		t.Fatalf("error %#v", err)
	}
	got, err := a.Get(ks + "cas")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := got.Counter("n"); n != 2 {
		t.Fatalf("the conflicting write changed the value: %s", got.JSON)
	}
	v1.Context.Release()
	v1.Context.Release() // twice is harmless
	if _, err := a.UpdateIf(ctx(t), ks+"cas", v1.Context, CounterAdd("n", 1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("UpdateIf with a released context: %v", err)
	}
}

func TestUpdateAsyncReportsTheOutcome(t *testing.T) {
	ks := keyspace(t)
	done, err := a.UpdateAsync(ctx(t), ks+"async", nil, CounterAdd("n", 5))
	if err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done, "the completion"); err != nil {
		t.Fatal(err)
	}
	done, err = a.UpdateAsync(ctx(t), ks+"async", nil, SetRemove("absent", []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done, "the failed completion"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("async removal of an absent element: %v, want ErrNotFound", err)
	}
}

func TestBadArgumentsReturnTheLibraryError(t *testing.T) {
	ks := keyspace(t)
	_, err := NewNode(Config{"overlay.active_view_size": "500"})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalid || !strings.Contains(e.Message, "overlay.active_view_size") {
		t.Fatalf("bad config value: %v", err)
	}
	if _, err := NewNode(Config{"no.such.key": "1"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown config key: %v", err)
	}
	if _, err := NewNode(Config{"tls": "off"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("config without node_name: %v", err)
	}
	if _, err := a.Get(ks + "never-written"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an absent key: %v", err)
	}
	if _, err := a.Get(""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Get of an empty key: %v", err)
	}
	if _, err := a.Update(ctx(t), "nodes/b/x", CounterAdd("n", 1)); !errors.Is(err, ErrPermission) {
		t.Fatalf("write into b's namespace: %v", err)
	}
	_, err = a.Update(ctx(t), ks+"bad", CounterAdd("a//b", 1))
	if !errors.As(err, &e) || e.Code != CodeInvalid || e.Op != "lashup_kv_ops_counter_add" || e.Message == "" {
		t.Fatalf("bad path: %#v", err)
	}
	if _, err := a.Update(ctx(t), ks+"bad", RemoveField("x", FieldType(42))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad field type: %v", err)
	}
	if _, err := a.Update(ctx(t), ks+"typed", CounterAdd("f", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx(t), ks+"typed", CounterAdd("f", 1), SetRemove("f", []byte("e"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing an absent element: %v", err)
	}
	if _, err := a.Publish(ctx(t), "lashup/reserved", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("publish on a reserved topic: %v", err)
	}
	if _, err := a.Update(ctx(t), strings.Repeat("k", 5000), CounterAdd("n", 1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized key: %v", err)
	}
	if _, err := a.Update(ctx(t), ks+"zero", Op{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero Op: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Update(cancelled, ks+"cancelled", CounterAdd("n", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := a.Get(ks + "cancelled"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the cancelled write happened: %v", err)
	}
}

func TestCloseWakesWaitersAndLaterCallsFail(t *testing.T) {
	d, err := startNode("d", t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	kv, err := d.SubscribeKeys(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	topic, err := d.SubscribeTopic(ctx(t), "t")
	if err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, kv.C, "the empty dump"); !ev.DumpDone {
		t.Fatalf("empty dump: %+v", ev)
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // ranges until the channel closes
		defer wg.Done()
		for range kv.C {
		}
	}()
	go func() {
		defer wg.Done()
		for range topic.C {
		}
	}()
	writerErr := make(chan error, 1)
	go func() { // writes until the node is closed under it
		defer wg.Done()
		for i := 0; ; i++ {
			if _, err := d.Update(context.Background(), "go/close", CounterAdd("n", 1)); err != nil {
				writerErr <- err
				return
			}
		}
	}()
	if !eventually(converge, func() bool { v, err := d.Get("go/close"); n, _ := v.Counter("n"); return err == nil && n > 10 }) {
		t.Fatal("the writer made no progress")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(converge):
		t.Fatal("goroutines still wait after Close")
	}
	err = receive(t, writerErr, "the writer's error")
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("the writer ended with %v, want ErrClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Get("go/close"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := d.HealthCheck(context.Background(), "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("HealthCheck after Close: %v", err)
	}
	if err := kv.Close(); err != nil {
		t.Fatalf("subscription Close after the node's: %v", err)
	}
}

func TestCloseOfANodeNeverStarted(t *testing.T) {
	n, err := NewNode(testConfig("never", t.TempDir(), ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Get("k"); !errors.Is(err, ErrState) {
		t.Fatalf("Get before Start: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestMemberEventsReportAJoinAndAFailure(t *testing.T) {
	sub, err := a.SubscribeMembers(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	contact, err := a.Contact()
	if err != nil {
		t.Fatal(err)
	}
	e, err := startNode("e", t.TempDir(), contact)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			e.Close()
		}
	}()
	// waitFor reads events until one about e matches.
	waitFor := func(what string, match func(MemberEvent) bool) {
		t.Helper()
		deadline := time.After(converge)
		for {
			select {
			case ev := <-sub.C:
				if ev.Node == "e" && match(ev) {
					return
				}
			case <-deadline:
				t.Fatalf("no event: %s", what)
			}
		}
	}
	waitFor("e reachable", func(ev MemberEvent) bool { return ev.Type == Reachability && ev.State == Reachable })
	closed = true
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor("e unreachable", func(ev MemberEvent) bool { return ev.Type == Reachability && ev.State == Unreachable })
}

func TestConcurrentSubscriptionsAndCloseEndCleanly(t *testing.T) {
	f, err := startNode("f", t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Each worker subscribes, writes or publishes, reads its event and
	// unsubscribes, in a loop, until the node closes under it.
	acceptable := func(err error) bool { return err == nil || errors.Is(err, ErrClosed) }
	failures := make(chan error, 64)
	var wg sync.WaitGroup
	var rounds atomic.Int64
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			key := fmt.Sprintf("go/stress/%d", w)
			topic := fmt.Sprintf("stress-%d", w)
			for {
				var err error
				if w%2 == 0 {
					var sub *KVSubscription
					if sub, err = f.SubscribeKeys(context.Background(), key); err == nil {
						_, err = f.Update(context.Background(), key, CounterAdd("n", 1))
						for ev := range sub.C { // until our write's event, or the channel closes
							if !ev.DumpDone && !ev.Initial {
								break
							}
						}
						if cerr := sub.Close(); !acceptable(cerr) {
							failures <- cerr
						}
					}
				} else {
					var sub *TopicSubscription
					if sub, err = f.SubscribeTopic(context.Background(), topic); err == nil {
						_, err = f.Publish(context.Background(), topic, []byte("x"))
						if err == nil {
							<-sub.C // the message, or the zero value once closed
						}
						if cerr := sub.Close(); !acceptable(cerr) {
							failures <- cerr
						}
					}
				}
				if err != nil {
					if !acceptable(err) {
						failures <- err
					}
					return
				}
				rounds.Add(1)
			}
		}(w)
	}
	if !eventually(converge, func() bool { return rounds.Load() > 60 }) {
		t.Fatalf("the workers made %d rounds", rounds.Load())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(converge):
		t.Fatal("workers still blocked after Close")
	}
	close(failures)
	for err := range failures {
		t.Errorf("worker: %v", err)
	}
}

