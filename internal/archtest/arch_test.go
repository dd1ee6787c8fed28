package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "berth"

// rules reads the package table of docs/ARCHITECTURE.md: package -> the
// module packages it may import (nil map value "anything").
func rules(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\|[^|]*\\| (.*) \\|$")
	code := regexp.MustCompile("`([^`]+)`")
	out := map[string]map[string]bool{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		switch strings.TrimSpace(m[2]) {
		case "anything":
			out[m[1]] = nil
			continue
		case "nothing":
			out[m[1]] = map[string]bool{}
			continue
		}
		allowed := map[string]bool{}
		for _, c := range code.FindAllStringSubmatch(m[2], -1) {
			allowed[c[1]] = true
		}
		out[m[1]] = allowed
	}
	if len(out) == 0 {
		t.Fatal("no package table found in docs/ARCHITECTURE.md")
	}
	return out
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	allowed := rules(t, root)
	pkgs := map[string]map[string]bool{} // package dir -> module imports of non-test files
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				pkgs[rel][rest] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, imports := range pkgs {
		rule, listed := allowed[pkg]
		if !listed {
			t.Errorf("package %s is not in the table of docs/ARCHITECTURE.md", pkg)
			continue
		}
		if rule == nil {
			continue
		}
		for imp := range imports {
			if !rule[imp] {
				t.Errorf("%s imports %s, which docs/ARCHITECTURE.md does not allow", pkg, imp)
			}
		}
	}
	for pkg := range allowed {
		if _, ok := pkgs[pkg]; !ok {
			t.Errorf("docs/ARCHITECTURE.md lists %s, which has no Go files", pkg)
		}
	}
}

// TestPackagesHaveDocs checks that every package has a doc.go with a
// package comment.
func TestPackagesHaveDocs(t *testing.T) {
	root, _ := filepath.Abs("../..")
	for pkg := range rules(t, root) {
		if pkg == "cmd/berth" || pkg == "bench" {
			continue // package main documents itself in main.go
		}
		path := filepath.Join(root, pkg, "doc.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package ") {
			t.Errorf("%s/doc.go has no package comment starting with \"Package \"", pkg)
		}
	}
}
