// Command berth runs a node of the berth registry service (berth serve),
// and its other subcommands (registry, credential, scope-map, token,
// repository, manifest, login, ca) are clients of the node's management
// API in the style of az acr.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}

// run executes the command line args with the given environment and
// output streams. It returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "berth is a multi-tenant OCI container registry",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(getenv, stderr))
	cli := newCLI(getenv)
	root.AddCommand(cli.registryCommand())
	root.AddCommand(cli.credentialCommand())
	root.AddCommand(cli.scopeMapCommand())
	root.AddCommand(cli.tokenCommand())
	root.AddCommand(cli.repositoryCommand())
	root.AddCommand(cli.manifestCommand())
	root.AddCommand(cli.loginAliasCommand())
	root.AddCommand(cli.caCommand())
	return root.ExecuteContext(ctx)
}
