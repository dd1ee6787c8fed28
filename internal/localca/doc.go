// Package localca keeps a node's local certificate authority: a CA created
// once under the data directory, and server certificates it issues for the
// login servers (*.<domain>) and the data endpoints (*.<region>.data.<domain>).
// It serves `berth serve --tls` when the operator brings no certificate of
// their own, and `berth ca export`.
package localca
