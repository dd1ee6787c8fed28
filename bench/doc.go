// Command bench is the load tool of berth. It starts a berth node and a CNCF
// Distribution registry side by side on loopback, runs the same client code
// against both, interleaved round by round, and prints a markdown table of
// absolute figures and berth/Distribution ratios.
//
// Workloads (select with -only, size with flags or -quick):
//
//	push-mono     one big blob: POST, then one PUT with the whole body (MB/s)
//	push-chunked  one big blob: POST, PATCH chunks with Content-Range, PUT (MB/s)
//	pull          GETs of the big blob, 4 per run, length verified (MB/s)
//	small-images  many small images pushed by several workers, HEAD before
//	              each upload as real clients do (images/s)
//	manifest-get  manifest GET by tag at fixed concurrency (rps, p50, p99)
//	blob-head     blob HEAD at fixed concurrency (rps, p50, p99)
//	tags          manifest GET on a repository with a thousand tags and with
//	              many tags, seeded over HTTP (berth only unless asked)
//
// Two groups, selected with -only by the group's name or by their members'
// names, each reported in a table of its own:
//
//	auth      pull, small-images, manifest-get and blob-head against berth
//	          without auth and a second berth with --auth=true
//	          --rate-limits=off, and against Distribution without auth and a
//	          second one with htpasswd basic auth (bcrypt). The berth client
//	          exchanges the operator credential for a refresh token, gets an
//	          access token per repository and keeps it until a 401, as
//	          docker and crane do. Figures: time with auth over time without.
//	redirect  big-blob pulls and 1 KiB blob GETs at concurrency 1 from
//	          berth, with the data endpoint of the registry "default" off
//	          (direct) and on (GET on the login server, 307, GET on
//	          default.local.data.localhost:PORT), switched through the
//	          management API before each run; *.localhost is dialled at the
//	          server's address.
//
// The big-blob workloads also run against a ceiling: a plain Go HTTP server,
// the same executable re-started as "bench ceiling-serve", that serves the big
// file with http.ServeFile and stores a PUT body into a file while hashing it
// with SHA-256, then fsyncs. Peak RSS (VmHWM) of every server process and the
// CPU used by the client and by each server are reported too.
//
// The small-image, GET and HEAD workloads send their many small requests
// with a lean HTTP/1.1 client by default (-client lean): one kept-alive
// connection per worker, written and read by the worker itself. net/http's
// client costs about three times as much CPU per request; when client and
// servers share the cores, that CPU is taken from the faster server.
// -client std sends them through net/http like the other workloads.
//
// All traffic goes to 127.0.0.1; every workload is bounded in count or time.
// Run it from the repository root:
//
//	go run ./bench -quick
//	go run ./bench -rounds 3 -out docs/bench.md
package main
