package main

import (
	"berth/internal/client"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"berth/internal/mgmt/api"
)

// scopeMapListView shows scope maps as `az acr scope-map list -o table`.
var scopeMapListView = view{columns: []column{
	{"NAME", "name"}, {"TYPE", "type"}, {"CREATION DATE", "creationDate"}, {"DESCRIPTION", "description"},
}}

// scopeMapView shows one scope map with its actions.
var scopeMapView = view{columns: append(scopeMapListView.columns[:4:4], column{"ACTIONS", "actions"})}

// tokenView shows tokens with the names of their passwords.
var tokenView = view{columns: []column{
	{"NAME", "name"}, {"SCOPE MAP", "scopeMapName"}, {"STATUS", "status"}, {"CREATION DATE", "creationDate"},
	{"PASSWORDS", "credentials.passwords[*].name"},
}}

// newTokenView shows a token just created with its password values.
var newTokenView = view{columns: append(tokenView.columns[:4:4],
	column{"PASSWORD1", "credentials.passwords[?name=='password1'].value | [0]"},
	column{"PASSWORD2", "credentials.passwords[?name=='password2'].value | [0]"})}

// repoActions collects the flags that take a repository followed by its
// actions, as az does: --repository team/app content/read content/write.
// pflag gives the flag the repository only; the actions are the positional
// arguments that follow it, which each flag finds by remembering how many
// positional arguments came before it.
type repoActions struct {
	cmd   *cobra.Command
	marks []repoMark
}

// repoMark is one use of a repository flag.
type repoMark struct {
	flag, repo string
	at         int // how many positional arguments came before it
}

// add defines the repeatable flag name on the command.
func (ra *repoActions) add(name, usage string) {
	ra.cmd.Flags().Var(&repoFlag{ra: ra, name: name}, name, usage)
}

// actions returns the actions of each flag, spelled
// repositories/<repository>/<action>, from the positional args.
func (ra *repoActions) actions(args []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ra.marks) > 0 && ra.marks[0].at > 0 || len(ra.marks) == 0 && len(args) > 0 {
		return nil, fmt.Errorf("unexpected argument %q; actions follow their repository, as in --repository team/app content/read", args[0])
	}
	for i, m := range ra.marks {
		end := len(args)
		if i+1 < len(ra.marks) {
			end = ra.marks[i+1].at
		}
		if m.at == end {
			return nil, fmt.Errorf("--%s %s needs at least one action, such as content/read", m.flag, m.repo)
		}
		for _, a := range args[m.at:end] {
			out[m.flag] = append(out[m.flag], "repositories/"+m.repo+"/"+strings.TrimPrefix(a, "/"))
		}
	}
	return out, nil
}

// repoFlag is one repository flag of a repoActions.
type repoFlag struct {
	ra   *repoActions
	name string
}

func (f *repoFlag) String() string { return "" }
func (f *repoFlag) Type() string   { return "REPO ACTION..." }
func (f *repoFlag) Set(repo string) error {
	f.ra.marks = append(f.ra.marks, repoMark{flag: f.name, repo: repo, at: len(f.ra.cmd.Flags().Args())})
	return nil
}

// registryFlag adds the required --registry/-r to cmd.
func registryFlag(cmd *cobra.Command, registry *string) {
	cmd.Flags().StringVarP(registry, "registry", "r", "", "name of the registry")
	cmd.MarkFlagRequired("registry")
}

// scopeMapCommand returns `berth scope-map`.
func (c *cli) scopeMapCommand() *cobra.Command {
	var registry, name, description string
	common := func(cmd *cobra.Command) *cobra.Command {
		registryFlag(cmd, &registry)
		cmd.Flags().StringVarP(&name, "name", "n", "", "name of the scope map")
		cmd.MarkFlagRequired("name")
		return cmd
	}
	const actionHelp = "repository and its actions (content/read, content/write, content/delete, metadata/read, " +
		"metadata/write); repeatable; a repository ending in * is a prefix"

	createCmd := common(&cobra.Command{
		Use:     "create",
		Short:   "Create a scope map: the repository actions that tokens may be given",
		Example: "  berth scope-map create -r contoso -n ci-push --repository team/app content/read content/write",
		Args:    cobra.ArbitraryArgs,
	})
	createActions := &repoActions{cmd: createCmd}
	createActions.add("repository", actionHelp)
	createCmd.Flags().StringVar(&description, "description", "", "description of the scope map")
	createCmd.RunE = c.runE(func(cmd *cobra.Command, args []string) error {
		acts, err := createActions.actions(args)
		if err != nil {
			return err
		}
		if len(acts["repository"]) == 0 {
			return fmt.Errorf("give at least one --repository REPO ACTION [ACTION...]")
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		m, err := cl.CreateScopeMap(cmd.Context(), registry, api.CreateScopeMapRequest{
			Name: name, Description: description, Actions: acts["repository"]})
		if err != nil {
			return err
		}
		return c.print(cmd, m, scopeMapView)
	})

	updateCmd := common(&cobra.Command{
		Use:     "update",
		Short:   "Add or remove actions of a scope map, or change its description",
		Example: "  berth scope-map update -r contoso -n ci-push --add-repository team/web content/read --remove-repository team/app content/write",
		Args:    cobra.ArbitraryArgs,
	})
	updateActions := &repoActions{cmd: updateCmd}
	updateActions.add("add-repository", "repository and the actions to add; repeatable")
	updateActions.add("remove-repository", "repository and the actions to remove; repeatable")
	updateCmd.Flags().StringVar(&description, "description", "", "new description of the scope map")
	updateCmd.RunE = c.runE(func(cmd *cobra.Command, args []string) error {
		acts, err := updateActions.actions(args)
		if err != nil {
			return err
		}
		req := api.UpdateScopeMapRequest{AddActions: acts["add-repository"], RemoveActions: acts["remove-repository"]}
		if cmd.Flags().Changed("description") {
			req.Description = &description
		}
		if req.Description == nil && len(req.AddActions) == 0 && len(req.RemoveActions) == 0 {
			return fmt.Errorf("nothing to change; give --add-repository, --remove-repository or --description")
		}
		return c.callAndPrint(cmd, scopeMapView, func(cl *client.Client) (any, error) { return cl.UpdateScopeMap(cmd.Context(), registry, name, req) })
	})

	showCmd := common(&cobra.Command{
		Use:   "show",
		Short: "Show a scope map, built in or the registry's own",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, scopeMapView, func(cl *client.Client) (any, error) { return cl.GetScopeMap(cmd.Context(), registry, name) })
		}),
	})

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in scope maps of a registry, then its own",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, scopeMapListView, func(cl *client.Client) (any, error) { return cl.ListScopeMaps(cmd.Context(), registry) })
		}),
	}
	registryFlag(listCmd, &registry)

	var yes bool
	deleteCmd := common(&cobra.Command{
		Use:   "delete",
		Short: "Delete a scope map that no token uses",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if ok, err := confirm(cmd, yes, fmt.Sprintf("delete scope map %q of registry %q", name, registry)); !ok {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			return cl.DeleteScopeMap(cmd.Context(), registry, name)
		}),
	})
	deleteCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")

	return c.group("scope-map", "Manage the scope maps of a registry: what its tokens may do",
		createCmd, updateCmd, showCmd, listCmd, deleteCmd)
}

// expiry holds the --expiration-in-days and --expiration flags of a
// command that generates passwords.
type expiry struct {
	days int
	at   string
}

func (e *expiry) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&e.days, "expiration-in-days", 0, "the passwords expire after this many days (default: never)")
	cmd.Flags().StringVar(&e.at, "expiration", "", "the passwords expire at this time, such as 2030-01-31T00:00:00Z")
}

// time returns the time of --expiration; zero when it is not given.
func (e *expiry) time() (time.Time, error) {
	if e.at == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, e.at)
	if err != nil {
		return t, fmt.Errorf("--expiration %q is not a time such as 2030-01-31T00:00:00Z", e.at)
	}
	return t, nil
}

// tokenCommand returns `berth token`.
func (c *cli) tokenCommand() *cobra.Command {
	var registry, name, scopeMap, status string
	common := func(cmd *cobra.Command) *cobra.Command {
		registryFlag(cmd, &registry)
		cmd.Flags().StringVarP(&name, "name", "n", "", "name of the token (its user name)")
		cmd.MarkFlagRequired("name")
		return cmd
	}

	var exp expiry
	createCmd := common(&cobra.Command{
		Use:   "create",
		Short: "Create a token; its two passwords are shown this once",
		Long: `Create a token, a user of the registry whose scope map says what it may do.
Unless --no-passwords, the answer holds password1 and password2: they are
shown this once.`,
		Example: "  berth token create -r contoso -n ci-bot --scope-map ci-push --expiration-in-days 30",
	})
	createCmd.Flags().StringVar(&scopeMap, "scope-map", "", "scope map of the token: the registry's own or a built-in one")
	createCmd.Flags().StringVar(&status, "status", "", "enabled (the default) or disabled")
	exp.addFlags(createCmd)
	createBools := &boolFlags{cmd: createCmd}
	noPasswords := createBools.add("no-passwords", "create the token without passwords")
	createCmd.Args = createBools.args
	createCmd.RunE = c.runE(func(cmd *cobra.Command, _ []string) error {
		at, err := exp.time()
		if err != nil {
			return err
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		tok, err := cl.CreateToken(cmd.Context(), registry, api.CreateTokenRequest{
			Name: name, ScopeMapName: scopeMap, Status: status, NoPasswords: noPasswords.v != nil && *noPasswords.v,
			Expiry: at, ExpirationInDays: exp.days})
		if err != nil {
			return err
		}
		return c.print(cmd, tok, newTokenView)
	})

	updateCmd := common(&cobra.Command{
		Use:     "update",
		Short:   "Change the scope map or the status of a token",
		Example: "  berth token update -r contoso -n ci-bot --status disabled",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			var req api.UpdateTokenRequest
			if cmd.Flags().Changed("scope-map") {
				req.ScopeMapName = &scopeMap
			}
			if cmd.Flags().Changed("status") {
				req.Status = &status
			}
			if req == (api.UpdateTokenRequest{}) {
				return fmt.Errorf("nothing to change; give --scope-map or --status")
			}
			return c.callAndPrint(cmd, tokenView, func(cl *client.Client) (any, error) { return cl.UpdateToken(cmd.Context(), registry, name, req) })
		}),
	})
	updateCmd.Flags().StringVar(&scopeMap, "scope-map", "", "new scope map of the token")
	updateCmd.Flags().StringVar(&status, "status", "", "enabled or disabled")

	showCmd := common(&cobra.Command{
		Use:   "show",
		Short: "Show a token with its passwords' names and times",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, tokenView, func(cl *client.Client) (any, error) { return cl.GetToken(cmd.Context(), registry, name) })
		}),
	})

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the tokens of a registry",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			return c.callAndPrint(cmd, tokenView, func(cl *client.Client) (any, error) { return cl.ListTokens(cmd.Context(), registry) })
		}),
	}
	registryFlag(listCmd, &registry)

	var yes bool
	deleteCmd := common(&cobra.Command{
		Use:   "delete",
		Short: "Delete a token and its passwords",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if ok, err := confirm(cmd, yes, fmt.Sprintf("delete token %q of registry %q", name, registry)); !ok {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			return cl.DeleteToken(cmd.Context(), registry, name)
		}),
	})
	deleteCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")

	return c.group("token", "Manage the tokens of a registry: users with a scope map",
		createCmd, updateCmd, showCmd, listCmd, deleteCmd, c.tokenCredentialCommand(common))
}

// tokenCredentialCommand returns `berth token credential`; common adds the
// --registry and --name flags of the token commands.
func (c *cli) tokenCredentialCommand(common func(*cobra.Command) *cobra.Command) *cobra.Command {
	var one, two bool
	// chosen returns the passwords that --password1 and --password2 name;
	// both when neither is given.
	chosen := func() []string {
		switch {
		case one && !two:
			return []string{api.TokenPassword1}
		case two && !one:
			return []string{api.TokenPassword2}
		}
		return []string{api.TokenPassword1, api.TokenPassword2}
	}

	var exp expiry
	generateCmd := common(&cobra.Command{
		Use:     "generate",
		Short:   "Generate new passwords of a token (both unless --password1 or --password2); each is shown this once",
		Example: "  berth token credential generate -r contoso -n ci-bot --password1 --expiration-in-days 30",
		Args:    cobra.NoArgs,
	})
	exp.addFlags(generateCmd)
	generateCmd.RunE = c.runE(func(cmd *cobra.Command, _ []string) error {
		at, err := exp.time()
		if err != nil {
			return err
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		registry, _ := cmd.Flags().GetString("registry")
		name, _ := cmd.Flags().GetString("name")
		var out api.Credentials
		for _, pw := range chosen() {
			creds, err := cl.GenerateTokenPassword(cmd.Context(), registry, name, api.GeneratePasswordRequest{
				PasswordName: pw, Expiry: at, ExpirationInDays: exp.days})
			if err != nil {
				return err
			}
			out.Username = creds.Username
			if p, ok := creds.Password(pw); ok {
				out.Passwords = append(out.Passwords, p)
			}
		}
		return c.print(cmd, out, credentialsView)
	})

	deleteCmd := common(&cobra.Command{
		Use:   "delete",
		Short: "Delete passwords of a token (--password1, --password2 or both)",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if !one && !two {
				return fmt.Errorf("say which password to delete: --password1, --password2 or both")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			registry, _ := cmd.Flags().GetString("registry")
			name, _ := cmd.Flags().GetString("name")
			for _, pw := range chosen() {
				if err := cl.DeleteTokenPassword(cmd.Context(), registry, name, pw); err != nil {
					return err
				}
			}
			return nil
		}),
	})
	for _, cmd := range []*cobra.Command{generateCmd, deleteCmd} {
		verb := cmd.Name()
		cmd.Flags().BoolVar(&one, "password1", false, verb+" password1 of the token")
		cmd.Flags().BoolVar(&two, "password2", false, verb+" password2 of the token")
	}
	cmd := &cobra.Command{Use: "credential", Short: "Generate or delete the passwords of a token", Args: cobra.NoArgs}
	cmd.AddCommand(generateCmd, deleteCmd)
	return cmd
}
