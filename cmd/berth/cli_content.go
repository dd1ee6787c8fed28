package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"berth/internal/client"
	"berth/internal/mgmt/api"
)

// The tables of repositories, tags and manifests.
var (
	repositoryView = view{columns: []column{
		{"NAME", "imageName"}, {"MANIFESTS", "manifestCount"}, {"TAGS", "tagCount"},
		{"CREATED", "createdTime"}, {"LAST UPDATE", "lastUpdateTime"},
	}}
	tagView = view{columns: []column{
		{"NAME", "name"}, {"DIGEST", "digest"}, {"CREATED", "createdTime"}, {"LAST UPDATE", "lastUpdateTime"},
	}}
	manifestView = view{columns: []column{
		{"DIGEST", "digest"}, {"TAGS", "tags"}, {"MEDIA TYPE", "mediaType"}, {"SIZE", "size"}, {"CREATED", "createdTime"},
	}}
)

// imageRef names an image as repo:tag or repo@digest.
type imageRef struct{ repo, tag, digest string }

// parseImage parses repo:tag or repo@digest.
func parseImage(s string) (imageRef, error) {
	var ref imageRef
	if repo, d, ok := strings.Cut(s, "@"); ok {
		ref = imageRef{repo: repo, digest: d}
		if !strings.Contains(d, ":") {
			return ref, fmt.Errorf("image %q: the digest must read algorithm:hex, such as sha256:<64 hex digits>", s)
		}
	} else if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		ref = imageRef{repo: s[:i], tag: s[i+1:]}
	}
	if ref.repo == "" || ref.tag == "" && ref.digest == "" {
		return ref, fmt.Errorf("image %q must be repository:tag or repository@digest, such as team/app:v1", s)
	}
	return ref, nil
}

// digestOf returns the digest that ref names, asking the registry for
// the digest of a tag.
func digestOf(ctx context.Context, cl *client.Client, registry string, ref imageRef) (string, error) {
	if ref.digest != "" {
		return ref.digest, nil
	}
	tag, err := cl.GetTag(ctx, registry, ref.repo, ref.tag)
	return tag.Digest, err
}

// target is what a content command acts on: a --repository, or an
// --image (also given as --name where az does so).
type target struct {
	repository string
	image      string
}

// resolve returns the repository or the image given; exactly one of them
// must be.
func (t target) resolve(imageFlag string) (string, *imageRef, error) {
	switch {
	case t.repository != "" && t.image != "":
		return "", nil, fmt.Errorf("give --repository or --%s, not both", imageFlag)
	case t.repository != "":
		return t.repository, nil, nil
	case t.image != "":
		ref, err := parseImage(t.image)
		return ref.repo, &ref, err
	}
	return "", nil, fmt.Errorf("give --repository REPO or --%s REPO:TAG (or REPO@DIGEST)", imageFlag)
}

// listFlags adds --orderby and --top to cmd.
func listFlags(cmd *cobra.Command, opts *client.ListOptions, orderby bool) {
	if orderby {
		cmd.Flags().StringVar(&opts.OrderBy, "orderby", "", "time_desc (newest first) or time_asc (oldest first)")
	}
	cmd.Flags().IntVar(&opts.Top, "top", 0, "list at most this many (default: all)")
}

// checkOrder refuses an --orderby the API does not know.
func checkOrder(o string) error {
	if o != "" && o != api.OrderTimeAsc && o != api.OrderTimeDesc {
		return fmt.Errorf("--orderby must be %s or %s, not %q", api.OrderTimeDesc, api.OrderTimeAsc, o)
	}
	return nil
}

// repositoryCommand returns `berth repository`.
func (c *cli) repositoryCommand() *cobra.Command {
	var registry string
	var t target
	var opts client.ListOptions
	withTarget := func(cmd *cobra.Command) *cobra.Command {
		registryFlag(cmd, &registry)
		cmd.Flags().StringVar(&t.repository, "repository", "", "name of the repository")
		cmd.Flags().StringVarP(&t.image, "image", "t", "", "an image: repository:tag or repository@digest")
		return cmd
	}

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the repositories of a registry by name",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			repos, err := cl.ListRepositories(cmd.Context(), registry, opts)
			if err != nil {
				return err
			}
			return c.print(cmd, repos, view{})
		}),
	}
	registryFlag(listCmd, &registry)
	listFlags(listCmd, &opts, false)

	showCmd := withTarget(&cobra.Command{
		Use:     "show",
		Short:   "Show a repository, or the tag or manifest an --image names",
		Example: "  berth repository show -r contoso --repository team/app\n  berth repository show -r contoso --image team/app:v1",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			repo, ref, err := t.resolve("image")
			if err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch {
			case ref == nil:
				r, err := cl.GetRepository(ctx, registry, repo)
				if err != nil {
					return err
				}
				return c.print(cmd, r, repositoryView)
			case ref.tag != "":
				tag, err := cl.GetTag(ctx, registry, repo, ref.tag)
				if err != nil {
					return err
				}
				return c.print(cmd, tag, tagView)
			}
			m, err := cl.GetManifest(ctx, registry, repo, ref.digest)
			if err != nil {
				return err
			}
			return c.print(cmd, m, manifestView)
		}),
	})

	var detail bool
	showTagsCmd := &cobra.Command{
		Use:     "show-tags",
		Short:   "List the tags of a repository: their names, or with --detail their digests and times",
		Example: "  berth repository show-tags -r contoso --repository team/app --orderby time_desc --top 5 --detail",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkOrder(opts.OrderBy); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			tags, err := cl.ListTags(cmd.Context(), registry, t.repository, opts)
			if err != nil {
				return err
			}
			if detail {
				return c.print(cmd, tags, tagView)
			}
			names := make([]string, len(tags))
			for i, tag := range tags {
				names[i] = tag.Name
			}
			return c.print(cmd, names, view{})
		}),
	}
	registryFlag(showTagsCmd, &registry)
	showTagsCmd.Flags().StringVar(&t.repository, "repository", "", "name of the repository")
	showTagsCmd.MarkFlagRequired("repository")
	showTagsCmd.Flags().BoolVar(&detail, "detail", false, "show each tag's digest and times, not only its name")
	listFlags(showTagsCmd, &opts, true)

	var yes bool
	deleteCmd := withTarget(&cobra.Command{
		Use:   "delete",
		Short: "Delete a repository, or the manifest an --image names with all its tags",
		Long: `Delete a repository with all its manifests and tags (--repository), or one
manifest with every tag that points to it (--image repo:tag or repo@digest).
To remove only a tag, use untag.`,
		Args: cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			repo, ref, err := t.resolve("image")
			if err != nil {
				return err
			}
			what := fmt.Sprintf("delete repository %q of registry %q with all its manifests and tags", repo, registry)
			if ref != nil {
				what = fmt.Sprintf("delete the manifest of %s in registry %q with every tag that points to it", t.image, registry)
			}
			if ok, err := confirm(cmd, yes, what); !ok {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			if ref == nil {
				return cl.DeleteRepository(cmd.Context(), registry, repo)
			}
			d, err := digestOf(cmd.Context(), cl, registry, *ref)
			if err != nil {
				return err
			}
			return cl.DeleteManifest(cmd.Context(), registry, repo, d)
		}),
	})
	deleteCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")

	untagCmd := &cobra.Command{
		Use:     "untag",
		Short:   "Remove a tag; its manifest stays",
		Example: "  berth repository untag -r contoso --image team/app:old",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			ref, err := parseImage(t.image)
			if err != nil {
				return err
			}
			if ref.tag == "" {
				return fmt.Errorf("untag needs repository:tag, not a digest")
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			return cl.DeleteTag(cmd.Context(), registry, ref.repo, ref.tag)
		}),
	}
	registryFlag(untagCmd, &registry)
	untagCmd.Flags().StringVarP(&t.image, "image", "t", "", "the tag to remove: repository:tag")
	untagCmd.MarkFlagRequired("image")

	return c.group("repository", "Manage the repositories, tags and manifests of a registry",
		listCmd, showCmd, showTagsCmd, deleteCmd, untagCmd, c.repositoryUpdateCommand(withTarget, &registry, &t))
}

// repositoryUpdateCommand returns `berth repository update`; withTarget
// adds --registry, --repository and --image bound to registry and t.
func (c *cli) repositoryUpdateCommand(withTarget func(*cobra.Command) *cobra.Command, registry *string, t *target) *cobra.Command {
	cmd := withTarget(&cobra.Command{
		Use:   "update",
		Short: "Lock or unlock a repository, tag or manifest",
		Long: `Change the attributes of a repository (--repository), or of the tag or the
manifest an --image names: what is not write-enabled cannot be overwritten,
not delete-enabled cannot be deleted, not read-enabled cannot be pulled, not
list-enabled is left out of the registry's lists.`,
		Example: "  berth repository update -r contoso --image team/app:v1 --write-enabled false --delete-enabled false",
	})
	bools := &boolFlags{cmd: cmd}
	del := bools.add("delete-enabled", "allow deletes")
	write := bools.add("write-enabled", "allow overwrites")
	read := bools.add("read-enabled", "allow pulls")
	list := bools.add("list-enabled", "show in the registry's lists")
	cmd.Args = bools.args
	cmd.RunE = c.runE(func(cmd *cobra.Command, _ []string) error {
		req := api.AttributesUpdate{DeleteEnabled: del.v, WriteEnabled: write.v, ReadEnabled: read.v, ListEnabled: list.v}
		if req == (api.AttributesUpdate{}) {
			return fmt.Errorf("nothing to change; give --delete-enabled, --write-enabled, --read-enabled or --list-enabled")
		}
		repo, ref, err := t.resolve("image")
		if err != nil {
			return err
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		switch {
		case ref == nil:
			r, err := cl.UpdateRepository(ctx, *registry, repo, req)
			if err != nil {
				return err
			}
			return c.print(cmd, r, repositoryView)
		case ref.tag != "":
			tag, err := cl.UpdateTag(ctx, *registry, repo, ref.tag, req)
			if err != nil {
				return err
			}
			return c.print(cmd, tag, tagView)
		}
		m, err := cl.UpdateManifest(ctx, *registry, repo, ref.digest, req)
		if err != nil {
			return err
		}
		return c.print(cmd, m, manifestView)
	})
	return cmd
}

// manifestCommand returns `berth manifest`.
func (c *cli) manifestCommand() *cobra.Command {
	var registry, name, image string
	var opts client.ListOptions
	// ref returns the image of --image, or of --name as az spells it.
	ref := func() (imageRef, error) {
		switch {
		case image != "" && name != "":
			return imageRef{}, fmt.Errorf("give --image or --name, not both")
		case image == "" && name == "":
			return imageRef{}, fmt.Errorf("give --image REPO:TAG or REPO@DIGEST")
		}
		return parseImage(first(image, name))
	}
	withImage := func(cmd *cobra.Command) *cobra.Command {
		registryFlag(cmd, &registry)
		cmd.Flags().StringVarP(&image, "image", "t", "", "the manifest: repository:tag or repository@digest")
		cmd.Flags().StringVarP(&name, "name", "n", "", "the same as --image")
		return cmd
	}

	listCmd := &cobra.Command{
		Use:     "list-metadata",
		Short:   "List the manifests of a repository with their tags and attributes, newest first",
		Example: "  berth manifest list-metadata -r contoso -n team/app --orderby time_asc",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkOrder(opts.OrderBy); err != nil {
				return err
			}
			return c.callAndPrint(cmd, manifestView, func(cl *client.Client) (any, error) { return cl.ListManifests(cmd.Context(), registry, name, opts) })
		}),
	}
	registryFlag(listCmd, &registry)
	listCmd.Flags().StringVarP(&name, "name", "n", "", "name of the repository")
	listCmd.MarkFlagRequired("name")
	listFlags(listCmd, &opts, true)

	showCmd := withImage(&cobra.Command{
		Use:     "show-metadata",
		Short:   "Show a manifest's tags and attributes",
		Example: "  berth manifest show-metadata -r contoso --image team/app:v1",
		Args:    cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			r, err := ref()
			if err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			d, err := digestOf(cmd.Context(), cl, registry, r)
			if err != nil {
				return err
			}
			m, err := cl.GetManifest(cmd.Context(), registry, r.repo, d)
			if err != nil {
				return err
			}
			return c.print(cmd, m, manifestView)
		}),
	})

	var yes bool
	deleteCmd := withImage(&cobra.Command{
		Use:   "delete",
		Short: "Delete a manifest with every tag that points to it",
		Args:  cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error {
			r, err := ref()
			if err != nil {
				return err
			}
			what := fmt.Sprintf("delete the manifest of %s in registry %q with every tag that points to it", first(image, name), registry)
			if ok, err := confirm(cmd, yes, what); !ok {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			d, err := digestOf(cmd.Context(), cl, registry, r)
			if err != nil {
				return err
			}
			return cl.DeleteManifest(cmd.Context(), registry, r.repo, d)
		}),
	})
	deleteCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")

	return c.group("manifest", "Show and delete the manifests of a repository", listCmd, showCmd, deleteCmd)
}
