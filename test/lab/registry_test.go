package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The registry side of the lab: one berth node whose login server and data
// endpoint listen on addresses of their own, with blobs in the registry's
// storage account.
const (
	loginAddr   = "10.200.0.10"
	dataAddr    = "10.200.0.11"
	storageAddr = "10.200.0.20"
	clientAddr  = "10.200.0.30"

	domain        = "berth.lab"
	region        = "lab"
	registryName  = "contoso"
	loginServer   = registryName + "." + domain
	dataEndpoint  = registryName + "." + region + ".data." + domain
	blobContainer = "berth" // the registry account's container for berth
	repository    = "app"
	imageRef      = loginServer + "/" + repository + ":v1"
)

// node is berth serve running on the registry host. Management goes
// through the berth CLI inside the registry host, over lab addresses.
type node struct {
	host    *host
	proc    *proc
	dataDir string
	env     []string // BERTH_SERVER and BERTH_TOKEN
}

// startNode starts berth serve with the login server on loginAddr, the data
// endpoint on dataAddr and blobs in the registry's storage account, and
// waits until both listeners answer.
func startNode(t *testing.T, h *host, st *storage) *node {
	t.Helper()
	h.setHosts(loginAddr+" "+loginServer, dataAddr+" "+dataEndpoint, storageAddr+" "+accountHost(registryAccount))
	n := &node{host: h, dataDir: filepath.Join(h.lab.dir, "berth")}
	// The key goes in the environment, where other users' ps does not see it.
	key := []string{"BERTH_AZBLOB_KEY=" + st.keys[registryAccount]}
	n.proc = h.start("berth", key, berthBin, "serve",
		"--listen", loginAddr+":80", "--data-listen", dataAddr+":80",
		"--domain", domain, "--region", region, "--auth=true", "--data-dir", n.dataDir,
		"--blob-store", "azblob", "--azblob-url", accountURL(registryAccount),
		"--azblob-account", registryAccount, "--azblob-container", blobContainer)
	h.waitHTTP(n.proc, "http://"+loginAddr+"/v2/", 30*time.Second)
	h.waitHTTP(n.proc, "http://"+dataAddr+"/", 10*time.Second)
	op, err := os.ReadFile(filepath.Join(n.dataDir, "operator-token"))
	if err != nil {
		t.Fatalf("the operator credential: %v", err)
	}
	n.env = []string{"BERTH_SERVER=http://" + loginAddr + ":80", "BERTH_TOKEN=" + strings.TrimSpace(string(op))}
	return n
}

// berth runs the berth CLI in the registry host with the docker
// configuration directory dockerConfig, and returns its output.
func (n *node) berth(dockerConfig string, args ...string) []byte {
	env := append(slices.Clone(n.env), "DOCKER_CONFIG="+dockerConfig, "HOME="+dockerConfig)
	return n.host.mustExec(env, berthBin, args...)
}

// pullToken creates a token that may only pull from the registry and
// returns its name and password.
func (n *node) pullToken(t *testing.T, scratch string) (string, string) {
	t.Helper()
	out := n.berth(scratch, "token", "create", "-n", "puller", "-r", registryName, "--scope-map", "_repositories_pull")
	var tok struct {
		Credentials struct {
			Passwords []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(out, &tok); err != nil || len(tok.Credentials.Passwords) == 0 {
		t.Fatalf("berth token create printed %s (%v)", out, err)
	}
	return "puller", tok.Credentials.Passwords[0].Value
}

// allowlist is what `berth registry show-endpoints` says a client needs.
type allowlist struct {
	firewall string            // -o firewall
	hosts    string            // -o hosts
	rules    []string          // the host:port lines of firewall
	names    map[string]string // name -> address, from hosts
}

func (n *node) allowlist(t *testing.T, scratch string) allowlist {
	t.Helper()
	a := allowlist{
		firewall: string(n.berth(scratch, "registry", "show-endpoints", "-n", registryName, "-o", "firewall")),
		hosts:    string(n.berth(scratch, "registry", "show-endpoints", "-n", registryName, "-o", "hosts")),
		names:    map[string]string{},
	}
	for line := range strings.Lines(a.firewall) {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			a.rules = append(a.rules, line)
		}
	}
	for line := range strings.Lines(a.hosts) {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		for _, name := range f[min(1, len(f)):] {
			a.names[strings.ToLower(name)] = f[0]
		}
	}
	return a
}

// destinations translates firewall rules (host:port, where a host may be a
// wildcard "*.suffix") to the address:port pairs an address-based firewall
// allows, using the names the client resolves. A wildcard allows every
// address of every name it matches, as a name-based firewall would.
func destinations(rules []string, names map[string]string) ([]string, error) {
	var out []string
	for _, r := range rules {
		i := strings.LastIndexByte(r, ':')
		if i < 0 {
			return nil, fmt.Errorf("firewall rule %q is not host:port", r)
		}
		host, port := strings.ToLower(r[:i]), r[i+1:]
		var addrs []string
		if suffix, ok := strings.CutPrefix(host, "*"); ok {
			for name, addr := range names {
				if strings.HasSuffix(name, suffix) {
					addrs = append(addrs, addr)
				}
			}
		} else if addr, ok := names[host]; ok {
			addrs = append(addrs, addr)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("firewall rule %q names no host the client resolves", r)
		}
		for _, a := range addrs {
			out = append(out, a+":"+port)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// waitRedirect waits until the login server answers a blob GET with a
// redirect to a URL on wantHost: a change of the registry's data endpoint
// setting reaches the login server through a cache. It asks with a token
// of user in the registry host.
func (n *node) waitRedirect(t *testing.T, user, password, blob, wantHost string) time.Duration {
	t.Helper()
	start := time.Now()
	scope := "repository:" + repository + ":pull"
	out := n.host.mustExec(nil, "curl", "-sS", "--fail-with-body", "--max-time", "5", "-u", user+":"+password,
		"http://"+loginServer+"/oauth2/token?service="+loginServer+"&scope="+scope)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token for %s: %s (%v)", scope, out, err)
	}
	var last string
	for time.Since(start) < 20*time.Second {
		out := n.host.mustExec(nil, "curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
			"-H", "Authorization: Bearer "+tok.AccessToken, "http://"+loginServer+"/v2/"+repository+"/blobs/"+blob)
		last = string(out)
		if strings.HasPrefix(last, "307 http://"+wantHost+"/") {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the login server does not redirect blob GETs to %s: its answer is %q", wantHost, last)
	return 0
}
