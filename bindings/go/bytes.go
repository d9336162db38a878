package lashup

// The accessors that return a (pointer, length) pair are read with cgo
// directly: SWIG-Go converts a return value before it can see the length
// that comes back through an out-parameter (see bindings/swig/lashup.i).
// The pointers are the C handles of the SWIG layer; nothing here keeps a Go
// pointer in C memory.

/*
#cgo pkg-config: lashup
#include <lashup/lashup.h>
*/
import "C"

import (
	"unsafe"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// cptr turns a C address held by a SWIG handle back into a pointer (the
// address is C memory, which the garbage collector does not move).
func cptr(address uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&address)) }

func goBytes(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	return C.GoBytes(p, C.int(n))
}

func cEvent(ev clashup.Struct_SS_lashup_event) *C.lashup_event_t {
	return (*C.lashup_event_t)(cptr(ev.Swigcptr()))
}

func cValue(v clashup.Struct_SS_lashup_kv_value) *C.lashup_kv_value_t {
	return (*C.lashup_kv_value_t)(cptr(v.Swigcptr()))
}

func eventPayload(ev clashup.Struct_SS_lashup_event) []byte {
	var n C.size_t
	p := C.lashup_event_payload(cEvent(ev), &n)
	b := goBytes(p, n)
	if b == nil && p != nil {
		b = []byte{}
	}
	return b
}

func eventKey(ev clashup.Struct_SS_lashup_event) string {
	var n C.size_t
	p := C.lashup_event_key(cEvent(ev), &n)
	return string(goBytes(p, n))
}

func memberMetadata(m clashup.Struct_SS_lashup_members, index int64) []byte {
	var n C.size_t
	p := C.lashup_members_metadata((*C.lashup_members_t)(cptr(m.Swigcptr())), C.size_t(index), &n)
	return goBytes(p, n)
}

func valueFieldName(v clashup.Struct_SS_lashup_kv_value, index int64) string {
	var n C.size_t
	p := C.lashup_kv_value_field_name(cValue(v), C.size_t(index), &n)
	return string(goBytes(unsafe.Pointer(p), n))
}

func valueRegister(v clashup.Struct_SS_lashup_kv_value, index int64) ([]byte, uint64) {
	var n C.size_t
	var ts C.uint64_t
	p := C.lashup_kv_value_register(cValue(v), C.size_t(index), &n, &ts)
	return goBytes(p, n), uint64(ts)
}

func valueSetElement(v clashup.Struct_SS_lashup_kv_value, index, element int64) []byte {
	var n C.size_t
	p := C.lashup_kv_value_set_element(cValue(v), C.size_t(index), C.size_t(element), &n)
	return goBytes(p, n)
}

func keysAt(k clashup.Struct_SS_lashup_kv_keys, index int64) string {
	var n C.size_t
	p := C.lashup_kv_keys_at((*C.lashup_kv_keys_t)(cptr(k.Swigcptr())), C.size_t(index), &n)
	return string(goBytes(p, n))
}
