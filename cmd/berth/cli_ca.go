package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// caCommand returns `berth ca`: the local certificate authority that
// `berth serve --tls` creates in the data directory.
func (c *cli) caCommand() *cobra.Command {
	var dataDir string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the PEM certificate of the node's local CA, for clients to trust",
		Long: `Print the PEM certificate of the local certificate authority that
berth serve --tls created in the data directory (<data-dir>/tls/ca.pem).
Clients that trust it accept the certificates of every login server and data
endpoint of the node.`,
		Example: "  berth ca export > berth-ca.pem\n" +
			"  berth ca export | sudo tee /etc/docker/certs.d/contoso.example.com/ca.crt",
		Args: cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			dir := first(dataDir, c.getenv("BERTH_DATA_DIR"), cliDefaultDataDir)
			path := filepath.Join(dir, "tls", "ca.pem")
			b, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no local CA in %s: run berth serve --tls first (with --data-dir %s)", filepath.Dir(path), dir)
			}
			if err != nil {
				return err
			}
			if block, _ := pem.Decode(b); block == nil || block.Type != "CERTIFICATE" {
				return fmt.Errorf("%s holds no PEM certificate", path)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		}),
	}
	export.Flags().StringVar(&dataDir, "data-dir", "", "data directory of the node [BERTH_DATA_DIR] (default "+cliDefaultDataDir+")")
	cmd := &cobra.Command{Use: "ca", Short: "Work with the node's local certificate authority", Args: cobra.NoArgs}
	cmd.AddCommand(export)
	return cmd
}
