package lashup

import (
	"runtime"
	"strings"

	"github.com/lashup/liblashup/bindings/go/internal/clashup"
)

// Code is a LASHUP_ERR_* code of the C API (0 or negative).
type Code int

// The codes of lashup_err_t.
const (
	CodeOK         Code = 0
	CodeInvalid    Code = -1
	CodeNoMem      Code = -2
	CodeAgain      Code = -3
	CodeTimeout    Code = -4
	CodeClosed     Code = -5
	CodeNotFound   Code = -6
	CodeIO         Code = -7
	CodeTLS        Code = -8
	CodeStorage    Code = -9
	CodeVersion    Code = -10
	CodeConflict   Code = -11
	CodeTooLarge   Code = -12
	CodeState      Code = -13
	CodePermission Code = -14
	CodeType       Code = -15
	CodeInternal   Code = -99
)

// String is the library's short description of the code (lashup_strerror).
func (c Code) String() string { return clashup.Lashup_strerror(int(c)) }

// Error is a failed call into the library: the code it returned, the C
// function (or Go method) that failed and the library's detail
// (lashup_last_error, or the errbuf of configuration calls).
//
// errors.Is(err, ErrNotFound) and the other sentinels compare codes only.
type Error struct {
	Code    Code
	Op      string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is a sentinel (an *Error with neither Op nor
// Message) of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Code == e.Code
}

// Sentinel errors, for errors.Is.
var (
	ErrInvalid    error = &Error{Code: CodeInvalid}
	ErrNoMem      error = &Error{Code: CodeNoMem}
	ErrAgain      error = &Error{Code: CodeAgain}
	ErrTimeout    error = &Error{Code: CodeTimeout}
	ErrClosed     error = &Error{Code: CodeClosed}
	ErrNotFound   error = &Error{Code: CodeNotFound}
	ErrIO         error = &Error{Code: CodeIO}
	ErrTLS        error = &Error{Code: CodeTLS}
	ErrStorage    error = &Error{Code: CodeStorage}
	ErrVersion    error = &Error{Code: CodeVersion}
	ErrConflict   error = &Error{Code: CodeConflict}
	ErrTooLarge   error = &Error{Code: CodeTooLarge}
	ErrState      error = &Error{Code: CodeState}
	ErrPermission error = &Error{Code: CodePermission}
	ErrType       error = &Error{Code: CodeType}
	ErrInternal   error = &Error{Code: CodeInternal}
)

// call runs one C call and turns a negative return into an *Error. The
// detail is thread-local in the library, so the goroutine stays on its OS
// thread from the call until lashup_last_error has been read.
func call(op string, f func() int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc := f()
	if rc >= 0 {
		return nil
	}
	return &Error{Code: Code(rc), Op: op, Message: clashup.Lashup_last_error()}
}

// errbufError is the error of a call that reports its detail in an errbuf.
func errbufError(op string, rc int, errbuf []byte) error {
	if rc >= 0 {
		return nil
	}
	msg := errbuf
	if i := indexByte(msg, 0); i >= 0 {
		msg = msg[:i]
	}
	return &Error{Code: Code(rc), Op: op, Message: string(msg)}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func closedError(op string) error {
	return &Error{Code: CodeClosed, Op: op, Message: "the node is closed"}
}
