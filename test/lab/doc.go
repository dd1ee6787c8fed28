// Package lab holds berth's network lab tests: promises that only show
// across hosts, tested with hosts made of Linux network namespaces on the
// test machine.
//
// A lab's hosts are namespaces joined by veth pairs to a bridge in a
// namespace of its own, with addresses from 10.200.0.0/16 only and no
// default route. Before anything is made, the root namespace gets an
// unreachable route for 10.200.0.0/16, and no packet is ever sent to a lab
// address from the root namespace: every client runs in a lab host (ip
// netns exec). Each host has /etc/netns/<ns>/hosts and a resolv.conf that
// points at 127.0.0.1, so that unknown names fail at once; a client
// firewall is nftables in the client's namespace, dropping output by
// default and rejecting TCP with a reset. Namespace names hold the process
// id, so that labs of parallel runs do not collide. Teardown (processes by
// id, namespaces, /etc/netns directories, the route) runs at the end of
// every test, whether it passed or not, and every command is bounded in
// time.
//
// TestFirewallStories tells the stories of dedicated data endpoints: a
// registry host running berth serve, a storage host running Azurite with
// the registry's storage account and an attacker's, and a client host
// whose /etc/hosts and egress rules come from `berth registry
// show-endpoints -o hosts` and `-o firewall`. Real clients (crane, regctl,
// skopeo, curl) run in the client's namespace.
//
// The tests need root, iproute2 (ip), nftables (nft) and curl; when one is
// missing they are skipped, except when CI is "true", where they fail. The
// client tools and Azurite are those scripts/test.sh installs. TestMain
// builds ./cmd/berth before any lab starts (set BERTH_BIN to test a binary
// built elsewhere); with -short nothing is built and every test is skipped.
package lab
