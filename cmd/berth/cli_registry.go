package main

import (
	"berth/internal/client"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"berth/internal/mgmt/api"
)

// registryView shows registries as `az acr list -o table` does.
var registryView = view{columns: []column{
	{"NAME", "name"}, {"LOCATION", "location"}, {"SKU", "sku"}, {"LOGIN SERVER", "loginServer"},
	{"CREATION DATE", "creationDate"}, {"ADMIN ENABLED", "adminUserEnabled"},
	{"ANONYMOUS PULL", "anonymousPullEnabled"}, {"DATA ENDPOINT", "dataEndpointEnabled"},
}}

// endpointsView lists the login server and the data endpoints, one host
// a row. Further output formats for show-endpoints (such as firewall rules
// or /etc/hosts lines) belong in its formats.
var endpointsView = view{
	rows: "[[{kind: 'login server', region: '', host: loginServer}], " +
		"dataEndpoints[*].{kind: 'data endpoint', region: region, host: endpoint}][]",
	columns: []column{{"KIND", "kind"}, {"REGION", "region"}, {"HOST", "host"}},
}

// healthView lists the checks of a health report.
var healthView = view{rows: "checks", columns: []column{{"NAME", "name"}, {"STATUS", "status"}, {"MESSAGE", "message"}}}

// credentialsView lists the passwords of the admin user or of a token.
var credentialsView = view{rows: "passwords", columns: []column{
	{"NAME", "name"}, {"VALUE", "value"}, {"CREATED", "creationTime"}, {"EXPIRES", "expiry"},
}}

// registryCommand returns `berth registry`.
func (c *cli) registryCommand() *cobra.Command {
	var name string
	nameFlag := func(cmd *cobra.Command) *cobra.Command {
		cmd.Flags().StringVarP(&name, "name", "n", "", "name of the registry")
		cmd.MarkFlagRequired("name")
		return cmd
	}

	var create api.CreateRegistryRequest
	var createAdmin, createAnon, createData *triBool
	createCmd := &cobra.Command{
		Use:   "create",
		Short: "Create a registry",
		Long: `Create a registry. The name is 5 to 50 letters and digits; the SKU is Basic,
Standard or Premium. With --admin-enabled true, the answer holds the admin
user's two passwords: they are shown this once.`,
		Example: "  berth registry create -n contoso --sku Premium --admin-enabled true",
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			create.Name = name
			create.AdminUserEnabled = createAdmin.v != nil && *createAdmin.v
			create.AnonymousPullEnabled = createAnon.v != nil && *createAnon.v
			create.DataEndpointEnabled = createData.v != nil && *createData.v
			reg, err := cl.CreateRegistry(cmd.Context(), create)
			if err != nil {
				return err
			}
			return c.print(cmd, reg, registryView)
		}),
	}
	nameFlag(createCmd)
	f := createCmd.Flags()
	f.StringVar(&create.SKU, "sku", "", "Basic, Standard or Premium")
	f.StringVarP(&create.Location, "location", "l", "", "region of the registry (default: the node's region)")
	createCmd.MarkFlagRequired("sku")
	createBools := &boolFlags{cmd: createCmd}
	createAdmin = createBools.add("admin-enabled", "enable the admin user")
	createAnon = createBools.add("anonymous-pull-enabled", "allow pulls without credentials (Standard and Premium)")
	createData = createBools.add("data-endpoint-enabled", "serve blobs from dedicated data endpoints (Premium)")
	createCmd.Args = createBools.args

	showCmd := nameFlag(&cobra.Command{
		Use:   "show",
		Short: "Show a registry",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, registryView, func(cl *client.Client) (any, error) { return cl.GetRegistry(cmd.Context(), name) })
		}),
	})

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the registries of the node",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, registryView, func(cl *client.Client) (any, error) { return cl.ListRegistries(cmd.Context()) })
		}),
	}

	var sku string
	var urlTTL time.Duration
	var admin, anon, data *triBool
	updateCmd := nameFlag(&cobra.Command{
		Use:   "update",
		Short: "Change the SKU or the features of a registry",
		Long: `Change the SKU or the features of a registry; what is not given keeps its
value. A downgrade must turn off the features the lower SKU lacks, first or
in the same command. Turning the admin user on shows its new passwords once.`,
		Example: "  berth registry update -n contoso --sku Standard --data-endpoint-enabled false",
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			req := api.UpdateRegistryRequest{AdminUserEnabled: admin.v, AnonymousPullEnabled: anon.v, DataEndpointEnabled: data.v}
			if cmd.Flags().Changed("sku") {
				req.SKU = &sku
			}
			if cmd.Flags().Changed("data-endpoint-url-ttl") {
				secs := int(urlTTL / time.Second)
				req.DataEndpointURLTTLSeconds = &secs
			}
			if req == (api.UpdateRegistryRequest{}) {
				return fmt.Errorf("nothing to change; give --sku, --admin-enabled, --anonymous-pull-enabled, --data-endpoint-enabled or --data-endpoint-url-ttl")
			}
			return c.callAndPrint(cmd, registryView, func(cl *client.Client) (any, error) { return cl.UpdateRegistry(cmd.Context(), name, req) })
		}),
	})
	f = updateCmd.Flags()
	f.StringVar(&sku, "sku", "", "Basic, Standard or Premium")
	f.DurationVar(&urlTTL, "data-endpoint-url-ttl", 0, "lifetime of signed data endpoint URLs, 30s to 1h (0: the default, 10m)")
	updateBools := &boolFlags{cmd: updateCmd}
	admin = updateBools.add("admin-enabled", "enable or disable the admin user")
	anon = updateBools.add("anonymous-pull-enabled", "allow or refuse pulls without credentials")
	data = updateBools.add("data-endpoint-enabled", "serve blobs from dedicated data endpoints or not")
	updateCmd.Args = updateBools.args

	var yes bool
	deleteCmd := nameFlag(&cobra.Command{
		Use:   "delete",
		Short: "Delete a registry with all its content, scope maps and tokens",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if ok, err := confirm(cmd, yes, fmt.Sprintf("delete registry %q with all its content", name)); !ok {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			return cl.DeleteRegistry(cmd.Context(), name)
		}),
	})
	deleteCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")

	healthCmd := nameFlag(&cobra.Command{
		Use:   "check-health",
		Short: "Check the health of a registry; fails when a check has status error",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			h, err := cl.CheckHealth(cmd.Context(), name)
			if err != nil {
				return err
			}
			if err := c.print(cmd, h, healthView); err != nil {
				return err
			}
			var failed []string
			for _, ch := range h.Checks {
				if ch.Status == api.HealthError {
					failed = append(failed, ch.Name+": "+ch.Message)
				}
			}
			if !h.Healthy {
				return fmt.Errorf("registry %q is unhealthy: %s", h.Registry, strings.Join(failed, "; "))
			}
			return nil
		}),
	})

	endpointsCmd := nameFlag(&cobra.Command{
		Use:   "show-endpoints",
		Short: "Show the host names a client firewall must allow to pull from a registry",
		Long: `Show the login server and the dedicated data endpoints of a registry.

-o firewall prints the allowlist a client needs, one "host:port" a line with
the reason as a comment: the login server and one data endpoint per region
when dedicated data endpoints are on; the login server and the storage
service's wildcard when blobs come from shared storage. -o hosts prints
/etc/hosts lines for the names whose addresses the node knows, for a lab or
a private DNS zone.`,
		Args: cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if c.output == "firewall" || c.output == "hosts" {
				a, err := cl.ShowAllowlist(cmd.Context(), name)
				if err != nil {
					return err
				}
				return c.print(cmd, a, allowlistView)
			}
			eps, err := cl.ShowEndpoints(cmd.Context(), name)
			if err != nil {
				return err
			}
			return c.print(cmd, eps, endpointsView)
		}),
	})

	return c.group("registry", "Manage registries", createCmd, showCmd, listCmd, updateCmd, deleteCmd,
		healthCmd, endpointsCmd, c.loginCommand())
}

// credentialCommand returns `berth credential`: the admin user's
// passwords.
func (c *cli) credentialCommand() *cobra.Command {
	var name, passwordName string
	showCmd := &cobra.Command{
		Use:   "show",
		Short: "Show the admin user's name and its passwords' names and times (berth keeps no password values)",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, credentialsView, func(cl *client.Client) (any, error) { return cl.ShowCredentials(cmd.Context(), name) })
		}),
	}
	renewCmd := &cobra.Command{
		Use:     "renew",
		Short:   "Replace one admin password and show the new one once",
		Example: "  berth credential renew -n contoso --password-name password2",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, credentialsView, func(cl *client.Client) (any, error) { return cl.RenewCredential(cmd.Context(), name, passwordName) })
		}),
	}
	renewCmd.Flags().StringVar(&passwordName, "password-name", "", "password or password2")
	renewCmd.MarkFlagRequired("password-name")
	for _, cmd := range []*cobra.Command{showCmd, renewCmd} {
		cmd.Flags().StringVarP(&name, "name", "n", "", "name of the registry")
		cmd.MarkFlagRequired("name")
	}
	return c.group("credential", "Show and renew the admin user's passwords", showCmd, renewCmd)
}
