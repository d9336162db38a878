// A first liblashup program in Go: start a node, join a second one to it,
// write a key on one and read it on the other, receive a KV subscription
// event and a multicast message. Peers talk mutual TLS with certificates of
// a development CA:
//
//	lashupd ca init  --dir /tmp/lashup-ca
//	lashupd ca issue --dir /tmp/lashup-ca --name node-1 --name node-2
//	go run . -tls-dir /tmp/lashup-ca
//
// (see bindings/go/README.md for PKG_CONFIG_PATH when the library is not
// installed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	lashup "github.com/lashup/liblashup/bindings/go"
)

func main() {
	tlsDir := flag.String("tls-dir", "", "directory of ca.pem, node-1.pem/.key and node-2.pem/.key (lashupd ca)")
	flag.Parse()
	if *tlsDir == "" {
		log.Fatal("-tls-dir is required: create one with `lashupd ca init --dir DIR` and " +
			"`lashupd ca issue --dir DIR --name node-1 --name node-2`")
	}
	dataDir, err := os.MkdirTemp("", "lashup-go-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataDir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	config := func(name, contacts string) lashup.Config {
		return lashup.Config{
			"node_name":      name,
			"data_dir":       filepath.Join(dataDir, name),
			"listen_address": "127.0.0.1:0", // any free port
			"contact_nodes":  contacts,
			"tls.ca_file":    filepath.Join(*tlsDir, "ca.pem"),
			"tls.cert_file":  filepath.Join(*tlsDir, name+".pem"),
			"tls.key_file":   filepath.Join(*tlsDir, name+".key"),
		}
	}

	// The first node, and a second that joins through it.
	first := start(config("node-1", ""))
	defer first.Close()
	contact, err := first.Contact()
	check(err)
	second := start(config("node-2", contact))
	defer second.Close()
	waitFor(ctx, "node-2 to reach node-1", func() bool {
		ok, err := second.Reachable("node-1")
		return err == nil && ok
	})
	members, err := first.Members()
	check(err)
	for _, m := range members {
		fmt.Printf("member %s at %s: %s, %d hop(s)\n", m.Name, m.Address, m.State, m.Distance)
	}

	// Subscribe on node-2 to the keys under "demo/" and to a topic.
	keys, err := second.SubscribeKeys(ctx, "demo/")
	check(err)
	defer keys.Close()
	news, err := second.SubscribeTopic(ctx, "news")
	check(err)
	defer news.Close()
	for ev := range keys.C { // the initial dump: nothing yet, then DumpDone
		if ev.DumpDone {
			break
		}
	}

	// Write a key on node-1 ...
	_, err = first.Update(ctx, "demo/greeting",
		lashup.RegisterSet("text", []byte("hello from node-1"), uint64(time.Now().UnixMicro())),
		lashup.CounterAdd("visits", 1))
	check(err)
	// ... and node-2's subscription reports the change.
	select {
	case ev := <-keys.C:
		fmt.Printf("subscription event on node-2: %s = %s\n", ev.Key, ev.Value.JSON)
	case <-ctx.Done():
		log.Fatal("no subscription event")
	}
	// node-2 reads the key from its own replica.
	value, err := second.Get("demo/greeting")
	check(err)
	text, _ := value.Register("text")
	fmt.Printf("node-2 reads demo/greeting: text=%q\n", text)

	// A missing key is an error that errors.Is recognises.
	if _, err := second.Get("demo/missing"); errors.Is(err, lashup.ErrNotFound) {
		fmt.Println("demo/missing:", err)
	}

	// Multicast: node-1 publishes, node-2 receives.
	seq, err := first.Publish(ctx, "news", []byte("the cluster has two nodes"))
	check(err)
	select {
	case msg := <-news.C:
		fmt.Printf("multicast on node-2 from %s (#%d, sent #%d): %s\n", msg.Origin, msg.Sequence, seq, msg.Payload)
	case <-ctx.Done():
		log.Fatal("no multicast message")
	}
}

func start(cfg lashup.Config) *lashup.Node {
	node, err := lashup.NewNode(cfg)
	check(err)
	check(node.Start())
	return node
}

func waitFor(ctx context.Context, what string, cond func() bool) {
	for !cond() {
		select {
		case <-ctx.Done():
			log.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
