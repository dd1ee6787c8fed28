package uploadgc

import (
	"context"
	"log/slog"
	"time"

	"berth/internal/berth"
)

// sessions closes stale upload sessions and reads one; metadata.Store does.
type sessions interface {
	// CloseStaleUploads closes at most limit open sessions last written
	// before before, in one transaction, and returns them.
	CloseStaleUploads(ctx context.Context, before time.Time, limit int) ([]berth.Upload, error)
	// Upload returns a session, closed ones too; KindNotFound if it has no
	// record.
	Upload(ctx context.Context, registry, id string) (berth.Upload, error)
}

// uploadBytes removes the bytes of an upload; every berth.BlobStore does.
type uploadBytes interface {
	AbortUpload(ctx context.Context, registry, id string) error
}

// leftovers is the optional capability of a blob store to list the uploads
// whose bytes were last written before a time (Registry, ID and UpdatedAt
// set); the filesystem store has it.
type leftovers interface {
	UploadsWrittenBefore(ctx context.Context, before time.Time) ([]berth.Upload, error)
}

// batch is how many sessions one transaction closes.
const batch = 100

// minLeftoverAge is how old bytes without an open session must be before
// they go, whatever the sweeper's maximum age: longer than the registry API
// accepts the id of a session without record (seven days), so that no
// client can still be writing a first chunk to them.
const minLeftoverAge = 8 * 24 * time.Hour

// Sweeper closes abandoned upload sessions of every registry and removes
// their bytes from one blob store: the one the node that runs it writes
// uploads to.
type Sweeper struct {
	sessions sessions
	bytes    uploadBytes
	maxAge   time.Duration
	log      *slog.Logger
}

// New returns a Sweeper that closes the sessions of meta that nothing was
// written to for maxAge and removes their bytes from blobs.
func New(meta sessions, blobs uploadBytes, maxAge time.Duration, log *slog.Logger) *Sweeper {
	return &Sweeper{sessions: meta, bytes: blobs, maxAge: maxAge, log: log}
}

// Sweep closes every session idle for longer than the sweeper's maximum age
// at now and removes its bytes, and returns how many sessions it closed. A
// session is closed before its bytes go, so that a client resuming it at
// that moment is refused rather than appending to a removed file; bytes
// that cannot be removed are logged and left. When the blob store can list
// its uploads, Sweep then also removes bytes that no open session owns and
// that are older than both the maximum age and minLeftoverAge: those of
// sessions that never got a record.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (int, error) {
	before := now.Add(-s.maxAge)
	n := 0
	for {
		closed, err := s.sessions.CloseStaleUploads(ctx, before, batch)
		if err != nil {
			return n, err
		}
		for _, u := range closed {
			s.remove(ctx, u)
		}
		n += len(closed)
		if len(closed) < batch {
			break
		}
	}
	return n, s.removeLeftovers(ctx, now.Add(-max(s.maxAge, minLeftoverAge)))
}

// removeLeftovers removes the bytes written before before that belong to
// no open session.
func (s *Sweeper) removeLeftovers(ctx context.Context, before time.Time) error {
	l, ok := s.bytes.(leftovers)
	if !ok {
		return nil
	}
	old, err := l.UploadsWrittenBefore(ctx, before)
	if err != nil {
		return err
	}
	for _, u := range old {
		session, err := s.sessions.Upload(ctx, u.Registry, u.ID)
		switch {
		case berth.IsNotFound(err) || (err == nil && session.Closed):
			s.remove(ctx, u)
		case err != nil:
			return err
		}
	}
	return nil
}

// remove removes the bytes of upload u, logging a failure. It is not
// cancelled with ctx: the session may already be closed, and its bytes
// would then stay.
func (s *Sweeper) remove(ctx context.Context, u berth.Upload) {
	if err := s.bytes.AbortUpload(context.WithoutCancel(ctx), u.Registry, u.ID); err != nil {
		s.log.WarnContext(ctx, "bytes of an abandoned upload not removed",
			"registry", u.Registry, "upload", u.ID, "err", err)
	}
}

// Run sweeps once at once and then every interval, until ctx is done.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Sweep(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("closing abandoned upload sessions failed", "closed", n, "err", err)
		case n > 0:
			s.log.Info("closed abandoned upload sessions", "count", n, "idle_for", s.maxAge.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
