package berth

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that each API can map it to its own wire code in
// one place. The zero Kind is KindInternal.
type Kind int

// The kinds of error. Each API package maps them to status codes.
const (
	KindInternal        Kind = iota // unexpected failure; details stay in the log
	KindNotFound                    // the named thing does not exist
	KindInvalid                     // the request is malformed or violates a rule
	KindExists                      // the thing already exists
	KindConflict                    // the state changed underneath the caller (retry)
	KindUnauthorized                // no or bad credentials
	KindDenied                      // authenticated, but not allowed
	KindUnsupported                 // the operation is not supported here
	KindTooLarge                    // the content exceeds a size limit
	KindUnavailable                 // a dependency is down; try again later
	KindTooManyRequests             // a rate limit applies
)

var kindNames = map[Kind]string{
	KindInternal:        "internal",
	KindNotFound:        "not found",
	KindInvalid:         "invalid",
	KindExists:          "exists",
	KindConflict:        "conflict",
	KindUnauthorized:    "unauthorized",
	KindDenied:          "denied",
	KindUnsupported:     "unsupported",
	KindTooLarge:        "too large",
	KindUnavailable:     "unavailable",
	KindTooManyRequests: "too many requests",
}

func (k Kind) String() string { return kindNames[k] }

// Error is the error type of the domain. Op names the operation that failed
// ("metadata.PutManifest"), Kind classifies it and Err is the cause, whose
// message is safe to show to the client.
type Error struct {
	Op   string
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. msg is formatted with args when args are given; an error
// among args is wrapped with %w.
func E(op string, kind Kind, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap returns err as an *Error of the given kind, keeping its message; nil
// stays nil.
func Wrap(op string, kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kind, Err: err}
}

// KindOf returns the Kind of the outermost *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Message returns the client-safe message of err: the cause of the outermost
// *Error without its Op prefixes.
func Message(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	for {
		var inner *Error
		if !errors.As(e.Err, &inner) {
			return e.Err.Error()
		}
		e = inner
	}
}

// IsNotFound reports whether err is of KindNotFound.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }
