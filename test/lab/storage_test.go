package lab

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// The shared storage service of the lab: Azurite on the storage host,
// every account under one domain, the way a cloud storage service names
// them (<account>.blob.<storage domain>). Azurite takes the account from
// the first label of a host name that is not an IP address.
const (
	storageDomain   = "blob.storage.lab"
	storagePort     = "10000"
	registryAccount = "registry" // holds the registry's blobs
	attackerAccount = "attacker" // a stranger's account on the same service
)

// accountHost is the production-style host name of a storage account.
func accountHost(account string) string { return account + "." + storageDomain }

// accountURL is the blob service URL of a storage account.
func accountURL(account string) string {
	return "http://" + accountHost(account) + ":" + storagePort
}

// storage is Azurite running on a lab host with the registry's account
// and the attacker's.
type storage struct {
	host *host
	proc *proc
	keys map[string]string // base64 shared key of each account
}

// startStorage starts azurite-blob on the host's first address with both
// accounts and waits until it answers.
func startStorage(t *testing.T, h *host, azurite string) *storage {
	t.Helper()
	s := &storage{host: h, keys: map[string]string{registryAccount: randomKey(t), attackerAccount: randomKey(t)}}
	h.setHosts(h.addrs[0] + " " + accountHost(registryAccount) + " " + accountHost(attackerAccount))
	env := []string{fmt.Sprintf("AZURITE_ACCOUNTS=%s:%s;%s:%s",
		registryAccount, s.keys[registryAccount], attackerAccount, s.keys[attackerAccount])}
	s.proc = h.start("azurite", env, azurite,
		"--blobHost", h.addrs[0], "--blobPort", storagePort,
		"--location", filepath.Join(h.lab.dir, "azurite"),
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	h.waitHTTP(s.proc, accountURL(registryAccount)+"/?comp=list", 45*time.Second)
	return s
}

// accountSAS returns the query string of an account SAS of account that
// may create, write, read and list containers and blobs over plain HTTP
// for an hour: what a compromised client would carry to exfiltrate data
// into a storage account its owner controls.
func (s *storage) accountSAS(t *testing.T, account string) string {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(account, s.keys[account])
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().UTC().Add(time.Hour),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Create: true, List: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return q.Encode()
}

// createContainer creates a container of account from the storage host
// itself, with the account's SAS.
func (s *storage) createContainer(t *testing.T, account, container, sasQuery string) {
	t.Helper()
	u := accountURL(account) + "/" + url.PathEscape(container) + "?restype=container&" + sasQuery
	code := strings.TrimSpace(string(s.host.mustExec(nil, "curl", "-sS", "--max-time", "10",
		"-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Length: 0", u)))
	if code != "201" {
		t.Fatalf("creating container %s/%s: HTTP %s", account, container, code)
	}
}

// readBlob reads a blob of account from the storage host itself, with the
// account's SAS. It returns the HTTP status and the body.
func (s *storage) readBlob(t *testing.T, account, container, blob, sasQuery string) (string, string) {
	t.Helper()
	u := accountURL(account) + "/" + url.PathEscape(container) + "/" + url.PathEscape(blob) + "?" + sasQuery
	out := string(s.host.mustExec(nil, "curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", u))
	i := strings.LastIndexByte(out, '\n')
	return out[i+1:], out[:i]
}

// putBlobArgs returns the curl arguments of a Put Blob of body, as a block
// blob, into container/blob of account with its SAS.
func putBlobArgs(account, container, blob, sasQuery, body string) []string {
	u := accountURL(account) + "/" + url.PathEscape(container) + "/" + url.PathEscape(blob) + "?" + sasQuery
	return []string{"-sS", "--fail-with-body", "--max-time", "10", "-X", "PUT",
		"-H", "x-ms-blob-type: BlockBlob", "-H", "Content-Type: text/plain",
		"--data-binary", body, "-w", "HTTP %{http_code}\n", u}
}

func randomKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
