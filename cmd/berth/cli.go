package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"berth/internal/client"
)

// defaultServer is the management API of the embedded default node.
const defaultServer = "http://127.0.0.1:5000"

// cliDefaultDataDir is the data directory of `berth serve` when neither
// --data-dir nor BERTH_DATA_DIR says otherwise.
const cliDefaultDataDir = "berth-data"

// cli holds what every client command of the management API shares: the
// environment and the values of the global flags. Only one command runs
// per cli, so the command groups bind their global flags to the same
// fields.
type cli struct {
	getenv func(string) string
	http   *http.Client

	server string // --server
	token  string // --token
	output string // --output
	query  string // --query
}

// newCLI returns the shared state of the client commands, reading the
// environment through getenv.
func newCLI(getenv func(string) string) *cli {
	return &cli{getenv: getenv, http: &http.Client{Timeout: 2 * time.Minute}}
}

// addGlobalFlags adds --server, --token, --output and --query to fs.
func (c *cli) addGlobalFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.server, "server", "", "URL of the management API [BERTH_SERVER] (default "+defaultServer+")")
	fs.StringVar(&c.token, "token", "", "operator credential [BERTH_TOKEN]")
	fs.StringVarP(&c.output, "output", "o", "json", "output format: json, jsonc, table, tsv, yaml or none (show-endpoints also firewall and hosts)")
	fs.StringVar(&c.query, "query", "", "JMESPath query applied to the result before output (see https://jmespath.org)")
}

// group returns a command group that carries the global flags for all its
// subcommands.
func (c *cli) group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	c.addGlobalFlags(cmd.PersistentFlags())
	cmd.AddCommand(subs...)
	return cmd
}

// runE adapts f to cobra, prefixing every error with the command, as in
// "registry create: unknown SKU ...".
func (c *cli) runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s: %w", commandName(cmd), err)
	}
}

// commandName returns the path of cmd below the root: "registry create".
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// fileConfig is the CLI's configuration file: $BERTH_CONFIG, else
// ~/.config/berth/config.json.
type fileConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// readConfig returns the configuration file's content. A missing default
// file is an empty configuration; a missing $BERTH_CONFIG is an error.
func (c *cli) readConfig() (fileConfig, error) {
	var cfg fileConfig
	path, explicit := c.getenv("BERTH_CONFIG"), true
	if path == "" {
		explicit = false
		home := c.getenv("HOME")
		if home == "" {
			return cfg, nil
		}
		path = filepath.Join(home, ".config", "berth", "config.json")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config file %s: %w (want {\"server\": \"...\", \"token\": \"...\"})", path, err)
	}
	return cfg, nil
}

// endpoint returns the management API's URL and the operator credential:
// each from its flag, else its environment variable, else the
// configuration file (and the server, else the default).
func (c *cli) endpoint() (*url.URL, string, error) {
	cfg, err := c.readConfig()
	if err != nil {
		return nil, "", err
	}
	server := first(c.server, c.getenv("BERTH_SERVER"), cfg.Server, defaultServer)
	token := first(c.token, c.getenv("BERTH_TOKEN"), cfg.Token)
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("the server %q is not an http:// or https:// URL, such as %s", server, defaultServer)
	}
	if token == "" {
		dir := first(c.getenv("BERTH_DATA_DIR"), cliDefaultDataDir)
		return nil, "", fmt.Errorf("no operator credential: set BERTH_TOKEN or --token (berth serve wrote it to %s)",
			filepath.Join(dir, "operator-token"))
	}
	return u, token, nil
}

// first returns the first of values that is not empty.
func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// client returns a client of the management API.
func (c *cli) client() (*client.Client, error) {
	u, token, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	return c.newClient(u, token), nil
}

// newClient returns a client of the management API at u.
func (c *cli) newClient(u *url.URL, token string) *client.Client {
	return client.New(u.String(), token, c.http)
}

// confirm asks on the terminal whether to go ahead with what, such as
// `delete registry "contoso"`, unless yes is set. Without a terminal it
// fails and asks for --yes. It returns false when the answer is no.
func confirm(cmd *cobra.Command, yes bool, what string) (bool, error) {
	if yes {
		return true, nil
	}
	if !isTerminal(cmd.ErrOrStderr()) || !isTerminal(os.Stdin) {
		return false, fmt.Errorf("refusing to %s without confirmation: there is no terminal to ask; add --yes (-y)", what)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Are you sure you want to %s? (y/N): ", what)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "Nothing was deleted.")
	return false, nil
}

// isTerminal reports whether v is a file that is a character device.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// boolFlags are the true|false flags of one command. Like az, each takes
// its value in the same argument (--admin-enabled=false), in the next one
// (--admin-enabled false) or not at all (--admin-enabled means true); the
// command's Args must be the flags' args method, which claims those next
// arguments and refuses any other.
type boolFlags struct {
	cmd *cobra.Command
	set []*triBool // in the order they were given
}

// add defines the flag name on the command.
func (bf *boolFlags) add(name, usage string) *triBool {
	b := &triBool{flags: bf}
	f := bf.cmd.Flags().VarPF(b, name, "", usage+" [true|false]")
	f.NoOptDefVal = "true"
	return b
}

// args claims each "true" or "false" that directly follows a flag given
// without a value, and refuses every other argument.
func (bf *boolFlags) args(cmd *cobra.Command, args []string) error {
	for i, a := range args {
		var owner *triBool
		for _, b := range bf.set {
			if b.at == i {
				owner = b
			}
		}
		v, isBool := map[string]bool{"true": true, "false": false}[strings.ToLower(a)]
		if owner == nil || !isBool {
			return fmt.Errorf("%s: unexpected argument %q", commandName(cmd), a)
		}
		owner.v = &v
		owner.at = -1
	}
	return nil
}

// triBool is a flag that is true, false or not given.
type triBool struct {
	flags *boolFlags
	v     *bool
	at    int // how many positional arguments came before it
}

func (b *triBool) String() string {
	if b.v == nil {
		return ""
	}
	return fmt.Sprint(*b.v)
}

func (b *triBool) Set(s string) error {
	switch strings.ToLower(s) {
	case "true":
		b.v = new(true)
	case "false":
		b.v = new(false)
	default:
		return fmt.Errorf("want true or false, not %q", s)
	}
	b.at = len(b.flags.cmd.Flags().Args())
	b.flags.set = append(b.flags.set, b)
	return nil
}

func (b *triBool) Type() string { return "bool" }
