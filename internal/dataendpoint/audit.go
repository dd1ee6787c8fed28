package dataendpoint

import (
	"context"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"
)

// Record describes one blob a data endpoint served.
type Record struct {
	Registry   string
	Region     string
	Repository string
	Digest     digest.Digest
	Identity   string    // the principal the token was issued to
	ClientAddr string    // the IP address the request came from
	Method     string    // GET or HEAD
	Bytes      int64     // body bytes sent; fewer than the response announced when the client went away
	Status     int       // 200 or 206
	Time       time.Time // when the response was finished
}

// Auditor receives a Record for every blob served, after the response is
// written. BlobServed must not block for long: the handler calls it in the
// request's goroutine, with a context that is not canceled by the client
// going away.
type Auditor interface {
	BlobServed(ctx context.Context, rec Record)
}

// LogAuditor is an Auditor that writes one structured log line per record.
type LogAuditor struct {
	log *slog.Logger
}

// NewLogAuditor returns an Auditor that logs each record at info level as
// "blob served" to log.
func NewLogAuditor(log *slog.Logger) *LogAuditor {
	return &LogAuditor{log: log}
}

// BlobServed logs rec.
func (a *LogAuditor) BlobServed(ctx context.Context, rec Record) {
	a.log.LogAttrs(ctx, slog.LevelInfo, "blob served",
		slog.String("registry", rec.Registry),
		slog.String("region", rec.Region),
		slog.String("repository", rec.Repository),
		slog.String("digest", rec.Digest.String()),
		slog.String("identity", rec.Identity),
		slog.String("client", rec.ClientAddr),
		slog.String("method", rec.Method),
		slog.Int64("bytes", rec.Bytes),
		slog.Int("status", rec.Status),
		slog.Time("time", rec.Time),
	)
}
