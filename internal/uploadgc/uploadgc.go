package uploadgc

import (
	"context"
	"log/slog"
	"time"

	"berth/internal/berth"
)

// sessions closes stale upload sessions; metadata.Store does.
type sessions interface {
	// CloseStaleUploads closes at most limit open sessions last written
	// before before, in one transaction, and returns them.
	CloseStaleUploads(ctx context.Context, before time.Time, limit int) ([]berth.Upload, error)
}

// uploadBytes removes the bytes of an upload; every berth.BlobStore does.
type uploadBytes interface {
	AbortUpload(ctx context.Context, registry, id string) error
}

// batch is how many sessions one transaction closes.
const batch = 100

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
// at now and removes its bytes, and returns how many it closed. A session is
// closed before its bytes go, so that a client resuming it at that moment
// is refused rather than appending to a removed file; bytes that cannot be
// removed are logged and left.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for {
		closed, err := s.sessions.CloseStaleUploads(ctx, now.Add(-s.maxAge), batch)
		if err != nil {
			return n, err
		}
		for _, u := range closed {
			if err := s.bytes.AbortUpload(ctx, u.Registry, u.ID); err != nil {
				s.log.WarnContext(ctx, "bytes of an abandoned upload not removed",
					"registry", u.Registry, "upload", u.ID, "err", err)
			}
		}
		n += len(closed)
		if len(closed) < batch {
			return n, nil
		}
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
