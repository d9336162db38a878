package lashup

import (
	"context"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// Message is a multicast message delivered on a subscribed topic.
type Message struct {
	Topic       string
	Origin      string // the node that published it
	Incarnation uint64 // the origin's incarnation when it published
	Sequence    uint64 // 1, 2, ... per origin incarnation
	Payload     []byte
}

// Publish publishes payload on topic to every node of the cluster and
// returns its sequence. It waits for the loop thread to publish; ctx is
// checked before. Topics starting with "lashup/" are reserved (ErrInvalid).
func (n *Node) Publish(ctx context.Context, topic string, payload []byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	seq := make([]uint64, 1)
	err := n.use("lashup_mc_publish_seq", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_mc_publish_seq(c, topic, payload, seq)
	})
	return seq[0], err
}

// PublishAsync queues payload for publishing without waiting (ErrAgain when
// the node's command queue is full).
func (n *Node) PublishAsync(topic string, payload []byte) error {
	return n.use("lashup_mc_publish", func(c clashup.Struct_SS_lashup_node) int {
		return clashup.Lashup_mc_publish(c, topic, payload)
	})
}

// TopicSubscription delivers the messages of one topic on C, which is
// closed by Close and when the node closes.
type TopicSubscription struct {
	Topic string
	C     <-chan Message
	n     *Node
	sink  *sink[Message]
}

// SubscribeTopic delivers the messages on topic that reach this node from
// now on (the ones this node publishes included).
func (n *Node) SubscribeTopic(ctx context.Context, topic string) (*TopicSubscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := newSink[Message]()
	sub := &TopicSubscription{Topic: topic, C: s.ch, n: n, sink: s}
	n.routes.Lock()
	defer n.routes.Unlock()
	if len(n.topics[topic]) == 0 {
		err := n.use("lashup_mc_subscribe", func(c clashup.Struct_SS_lashup_node) int {
			return clashup.Lashup_mc_subscribe(c, topic)
		})
		if err != nil {
			return nil, err
		}
	}
	n.topics[topic] = append(n.topics[topic], sub)
	return sub, nil
}

// Close ends this subscription and closes C; the node unsubscribes from the
// topic when its last subscription closes.
func (s *TopicSubscription) Close() error {
	n := s.n
	n.routes.Lock()
	subs := n.topics[s.Topic]
	found := false
	for i, x := range subs {
		if x == s {
			subs = append(subs[:i:i], subs[i+1:]...)
			found = true
			break
		}
	}
	if len(subs) == 0 {
		delete(n.topics, s.Topic)
	} else {
		n.topics[s.Topic] = subs
	}
	var err error
	if found && len(subs) == 0 {
		err = n.use("lashup_mc_unsubscribe", func(c clashup.Struct_SS_lashup_node) int {
			return clashup.Lashup_mc_unsubscribe(c, s.Topic)
		})
	}
	n.routes.Unlock()
	s.sink.close()
	if isClosed(err) {
		return nil
	}
	return err
}
