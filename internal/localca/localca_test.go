package localca

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestCAIssuesTrustedCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"*.example.com", "*.eastus.data.example.com", "localhost", "127.0.0.1"}
	cert, err := ca.ServerCertificate(names)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, caKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode %v", fi.Mode().Perm())
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM())
	for _, host := range []string{"contoso.example.com", "contoso.eastus.data.example.com", "localhost"} {
		t.Run(host, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host}}}
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "contoso.westus.data.example.com"}}}
	if _, err := c.Get(srv.URL); err == nil {
		t.Error("certificate covers a region it was not issued for")
	}

	// Reopening keeps the CA; the same names reuse the certificate.
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.CertPEM()) != string(ca.CertPEM()) {
		t.Error("CA changed on reopen")
	}
	cert2, err := again.ServerCertificate([]string{"localhost", "127.0.0.1", "*.example.com", "*.eastus.data.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if string(cert2.Certificate[0]) != string(cert.Certificate[0]) {
		t.Error("certificate reissued for the same names")
	}
	cert3, _ := again.ServerCertificate([]string{"localhost"})
	if string(cert3.Certificate[0]) == string(cert.Certificate[0]) {
		t.Error("certificate not reissued for other names")
	}
}
