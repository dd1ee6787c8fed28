// Package ratelimit throttles the registry API the way Azure Container
// Registry does: per registry, by SKU, read operations (GET, HEAD) and
// write operations (PUT, POST, PATCH, DELETE) counted separately, with
// ACR's limits as defaults (Basic 1,000 reads and 100 writes per minute,
// Standard 3,000 and 500, Premium 10,000 and 2,000). Each identity also
// has its own bucket, a share of the registry's, so that one busy client
// cannot starve the others; a request passes when both allow it.
// Limiter.Check says which limit refused a request and when to retry;
// writing the 429 answer is left to the API.
//
// The counters live behind Buckets, one method. Every bucket is a single
// timestamp, its theoretical arrival time (TAT) in the generic cell rate
// algorithm: with interval T = 1/rate and tolerance τ = burst×T, a request
// at now passes when max(TAT, now)+T-now <= τ and then sets TAT to
// max(TAT, now)+T; otherwise it may retry after max(TAT, now)+T-now-τ. A
// bucket whose TAT is past is full and need not be stored at all.
//
// Memory implements Buckets in one process and bounds its size by dropping
// full buckets. The nodes of a region share their limits by plugging in a
// shared implementation instead, with the same arithmetic done atomically
// where the state lives, on the store's clock rather than the node's:
//
// In PostgreSQL that is one row per bucket, rate_buckets(name text primary
// key, tat timestamptz), and one statement per Take, with $2 = T and $3 = τ
// as intervals:
//
//	INSERT INTO rate_buckets AS b (name, tat) VALUES ($1, now() + $2)
//	ON CONFLICT (name) DO UPDATE SET tat = greatest(b.tat, now()) + $2
//	  WHERE greatest(b.tat, now()) + $2 - now() <= $3
//	RETURNING tat
//
// No row returned means refused; the wait, max(tat, now())+T-now()-τ, is
// read from the row in the same statement through a CTE or in a second one.
// A periodic DELETE FROM rate_buckets WHERE tat < now() drops full buckets.
// In Redis it is the same steps in a Lua script run by EVALSHA, with the TAT
// in a key that expires at TAT, so that full buckets vanish by themselves.
//
// The Limiter does not change: it names buckets "registry/<registry>/<op>"
// and "identity/<registry>/<op>/<identity>" and passes rate and burst on
// each call, so a limit changed in the configuration applies at once.
package ratelimit
