package main

import (
	"crypto/tls"
	"fmt"
	"path/filepath"

	"berth/internal/localca"
)

// serverTLS returns the TLS configuration of `berth serve`, or nil for plain
// HTTP: the operator's certificate files, or certificates of the local CA in
// <data-dir>/tls for the login servers (*.<domain>), the data endpoints of
// the node's region (*.<region>.data.<domain>) and loopback.
func serverTLS(c serveConfig) (*tls.Config, error) {
	switch {
	case c.tlsCert != "" || c.tlsKey != "":
		if c.tlsCert == "" || c.tlsKey == "" {
			return nil, fmt.Errorf("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case !c.tls:
		return nil, nil
	}
	ca, err := localca.Open(filepath.Join(c.dataDir, "tls"))
	if err != nil {
		return nil, err
	}
	cert, err := ca.ServerCertificate([]string{
		c.domain, "*." + c.domain, "*." + c.region + ".data." + c.domain, "localhost", "127.0.0.1", "::1",
	})
	if err != nil {
		return nil, fmt.Errorf("local CA certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
