// Package lashup is the Go binding of liblashup: failure detection,
// membership and reachability, a replicated CRDT key-value store and
// multicast for every host of a cluster.
//
// A Node wraps one C node. Its events are pulled by one goroutine per node
// (lashup_node_poll with a timeout; the library never calls into Go) and
// delivered on the channels of subscriptions. Errors are *Error values
// carrying the library's code and message; compare them with errors.Is
// against ErrNotFound, ErrConflict, ErrPermission and the other sentinels.
//
// The package sits on a SWIG-generated low-level layer (internal/clashup,
// from bindings/swig/lashup.i) and links the library with
// `#cgo pkg-config: lashup`.
package lashup
