package report

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report/internal/lifecycle"
)

// The resolutions of a resolved record (Record.Resolution): why it was
// resolved.
const (
	// ResolutionNotSeen: a complete scan of the account no longer
	// produced the finding.
	ResolutionNotSeen = "NOT_SEEN"
	// ResolutionOutOfScope prefixes the resolution of a finding closed
	// because its account left the scan's scope (see Scope and
	// OutOfScopeResolution).
	ResolutionOutOfScope = "OUT_OF_SCOPE_"
)

// OutOfScopeResolution is the resolution of the findings of an account
// out of scope for the given reason: OUT_OF_SCOPE_SUSPENDED,
// OUT_OF_SCOPE_PENDING_CLOSURE, OUT_OF_SCOPE_CLOSED (the account's
// Organizations state), OUT_OF_SCOPE_EXCLUDED (the filters leave it out)
// or OUT_OF_SCOPE_REMOVED (no longer in the organization).
func OutOfScopeResolution(reason string) string { return ResolutionOutOfScope + reason }

// Scope is what a complete discovery of the organization says about its
// accounts: which are in scope (the scan's targets) and why the others
// are not. Build it with ScopeOf.
type Scope struct {
	// InScope holds the IDs of the accounts in scope.
	InScope map[string]bool
	// OutOfScope maps listed accounts that are not in scope to why
	// (inventory.Org.OutOfScope).
	OutOfScope map[string]string
	// At is when findings are closed; the store's clock when zero.
	At time.Time
}

// ScopeOf returns the scope of a complete discovery. Only AWS
// Organizations can say that an account has left: a static account list,
// or a discovery that listed no account, is refused.
func ScopeOf(org inventory.Org, at time.Time) (Scope, error) {
	if !org.FromOrganizations {
		return Scope{}, errors.New("out-of-scope accounts: the accounts come from a static list, not from AWS Organizations; nothing can be known about the others")
	}
	if len(org.Members) == 0 {
		return Scope{}, errors.New("out-of-scope accounts: AWS Organizations listed no account; want a complete discovery")
	}
	s := Scope{InScope: make(map[string]bool, len(org.Targets)), OutOfScope: maps.Clone(org.OutOfScope), At: at}
	for _, a := range org.Targets {
		s.InScope[a.ID] = true
	}
	return s, nil
}

// Reason returns why account is out of scope (its entry in OutOfScope,
// or inventory.OutOfScopeRemoved when the discovery did not list it), or
// "" when it is in scope.
func (s Scope) Reason(account string) string {
	if s.InScope[account] {
		return ""
	}
	if r := s.OutOfScope[account]; r != "" {
		return r
	}
	return inventory.OutOfScopeRemoved
}

// closedAt is when CloseOutOfScope resolves: s.At, or now.
func (s Scope) closedAt(now time.Time) time.Time {
	if s.At.IsZero() {
		return lifecycle.Timestamp(now)
	}
	return lifecycle.Timestamp(s.At)
}

// ScopeCloser closes the findings of accounts that have left the scope.
// The stores and Fanout implement it.
type ScopeCloser interface {
	// CloseOutOfScope resolves the OPEN and WAIVED findings of every
	// account with stored findings that scope does not hold in scope,
	// with the resolution OutOfScopeResolution(scope.Reason(account)),
	// and returns how many it closed. It is called within a run (after
	// Begin, before End; ErrNoRun otherwise) and only after a complete
	// discovery (ScopeOf): a failed or partial discovery must not close
	// anything. An account a newer scan holds is left alone
	// (ErrSuperseded, joined to the error); the others are closed.
	CloseOutOfScope(ctx context.Context, scanID string, scope Scope) (closed int, err error)
}

// ErrSuperseded is returned (wrapped in a *SupersededError) by Put,
// AccountDone and CloseOutOfScope of an account that a newer scan has
// claimed: the older scan writes nothing more of that account and
// resolves nothing there. The caller counts the account INCOMPLETE
// (WriteFailure).
var ErrSuperseded = errors.New("superseded by a newer scan")

// SupersededError says which newer scan holds an account.
type SupersededError struct {
	Account string // the account
	ScanID  string // the scan that lost it
	By      string // the newer scan that holds it
}

func (e *SupersededError) Error() string {
	return fmt.Sprintf("account %s: scan %s is superseded by the newer scan %s; it writes nothing more there", e.Account, e.ScanID, e.By)
}

// Is makes errors.Is(err, ErrSuperseded) true.
func (e *SupersededError) Is(target error) bool { return target == ErrSuperseded }

// ErrNotWritten is returned (wrapped, with the first cause) by a store's
// AccountDone when a write of the account failed earlier in the run: some
// of its findings were not stored, so its stale findings were not
// resolved even if its result was COMPLETE. The caller counts the account
// INCOMPLETE (WriteFailure); the other accounts are not affected.
var ErrNotWritten = errors.New("findings not all written; stale findings not resolved")

// The failure codes WriteFailure returns.
const (
	// FailureSuperseded: a newer scan holds the account.
	FailureSuperseded = "Superseded"
	// FailureWriteFailed: the account's findings could not all be
	// written.
	FailureWriteFailed = "WriteFailed"
)

// WriteFailure is the failure to record on an account (status
// INCOMPLETE) whose findings a sink refused or could not write: code
// Superseded when a newer scan holds it, WriteFailed otherwise; nil for
// a nil error.
func WriteFailure(err error) *inventory.Failure {
	if err == nil {
		return nil
	}
	code := FailureWriteFailed
	if errors.Is(err, ErrSuperseded) {
		code = FailureSuperseded
	}
	return &inventory.Failure{Code: code, Message: err.Error()}
}
