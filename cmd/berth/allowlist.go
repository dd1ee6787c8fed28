package main

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// allowlister computes a registry's client allowlist from what the node
// knows: its listeners and, in shared-storage mode, the storage service URL.
type allowlister struct {
	domain, region string
	login, data    string // listen addresses; data may be ""
	storage        string // the blob storage service URL when blobs are redirected to it, else ""
}

// Allowlist answers GET /api/v1/registries/{name}/endpoints/allowlist.
func (a allowlister) Allowlist(ctx context.Context, reg berth.Registry) (api.Allowlist, error) {
	out := api.Allowlist{Rules: []api.AllowRule{}, Hosts: []api.HostAddress{}}
	loginHost, loginPort := splitAddr(a.login)
	login := reg.Name + "." + a.domain
	out.Rules = append(out.Rules, api.AllowRule{Host: login, Port: loginPort, Purpose: "login server"})
	out.Hosts = appendHost(out.Hosts, loginHost, login)
	switch {
	case reg.DataEndpointEnabled:
		out.Mode = api.ModeDataEndpoints
		dataHost, dataPort := loginHost, loginPort
		if a.data != "" {
			dataHost, dataPort = splitAddr(a.data)
		}
		host := reg.Name + "." + a.region + ".data." + a.domain
		out.Rules = append(out.Rules, api.AllowRule{Host: host, Port: dataPort, Purpose: "data endpoint " + a.region})
		out.Hosts = appendHost(out.Hosts, dataHost, host)
	case a.storage != "":
		out.Mode = api.ModeSharedStorage
		u, err := url.Parse(a.storage)
		if err != nil {
			return out, berth.E("allowlist", berth.KindInternal, "storage URL %q: %w", a.storage, err)
		}
		port := 443
		if u.Scheme == "http" {
			port = 80
		}
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
		account := u.Hostname()
		if net.ParseIP(account) != nil {
			out.Rules = append(out.Rules, api.AllowRule{Host: account, Port: port, Purpose: "shared storage (any account on it)"})
			break
		}
		wildcard := account
		if _, parent, ok := strings.Cut(account, "."); ok {
			wildcard = "*." + parent // the service names every account under one domain
		}
		out.Rules = append(out.Rules, api.AllowRule{Host: wildcard, Port: port, Purpose: "shared storage (any account)"})
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		addrs, _ := net.DefaultResolver.LookupHost(rctx, account)
		cancel()
		for _, addr := range addrs {
			out.Hosts = appendHost(out.Hosts, addr, account)
		}
	default:
		out.Mode = api.ModeLoginServer
	}
	return out, nil
}

// splitAddr returns the host and port of a listen address.
func splitAddr(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// appendHost adds an /etc/hosts entry when the address is a concrete one.
func appendHost(hosts []api.HostAddress, addr, name string) []api.HostAddress {
	ip := net.ParseIP(addr)
	if ip == nil || ip.IsUnspecified() {
		return hosts
	}
	return append(hosts, api.HostAddress{Address: ip.String(), Host: name})
}
