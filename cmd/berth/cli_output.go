package main

import (
	"berth/internal/client"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmespath/go-jmespath"
	"github.com/spf13/cobra"
)

// view says how a command's result looks in the formats other than JSON.
type view struct {
	// rows is a JMESPath expression selecting the table rows from the
	// result; "" means the result itself: each element of a list, or an
	// object as one row.
	rows string
	// columns are the table's columns, each a JMESPath expression over one
	// row. None: the columns of a query result (every scalar field).
	columns []column
	// formats are further values of --output that this command
	// understands, each writing the result its own way (for example a
	// firewall rule list for show-endpoints). They see the result after
	// --query.
	formats map[string]func(w io.Writer, result any) error
}

// column is one column of a table: its header and the JMESPath expression
// of its cell.
type column struct{ header, expr string }

// formats are the values of --output that every command understands.
var formats = []string{"json", "jsonc", "table", "tsv", "yaml", "none"}

// print writes result to the command's output in the format of --output,
// after applying --query.
func (c *cli) print(cmd *cobra.Command, result any, v view) error {
	w := cmd.OutOrStdout()
	if rv := reflect.ValueOf(result); rv.Kind() == reflect.Slice && rv.IsNil() {
		result = []any{} // an empty list, not null
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return err
	}
	if c.query != "" {
		generic, err = jmespath.Search(c.query, generic)
		if err != nil {
			return fmt.Errorf("--query %q: %w", c.query, err)
		}
		if raw, err = json.Marshal(generic); err != nil {
			return err
		}
		v.rows, v.columns = "", nil
	}
	if f, ok := v.formats[c.output]; ok {
		return f(w, generic)
	}
	switch c.output {
	case "json", "jsonc":
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		if c.output == "jsonc" {
			return colorJSON(w, buf.Bytes())
		}
		_, err := w.Write(buf.Bytes())
		return err
	case "yaml":
		return writeYAML(w, raw)
	case "table", "tsv":
		header, rows, err := tabulate(generic, v)
		if err != nil {
			return err
		}
		if c.output == "tsv" {
			return writeTSV(w, rows)
		}
		return writeTable(w, header, rows)
	case "none":
		return nil
	}
	known := append(slices.Clone(formats), slices.Sorted(maps.Keys(v.formats))...)
	return fmt.Errorf("unknown --output %q; use %s", c.output, strings.Join(known, ", "))
}

// tabulate returns the header and the rows of result as v describes them.
func tabulate(result any, v view) ([]string, [][]any, error) {
	var rows []any
	src := result
	if v.rows != "" {
		var err error
		if src, err = jmespath.Search(v.rows, result); err != nil {
			return nil, nil, err
		}
	}
	switch s := src.(type) {
	case []any:
		rows = s
	case nil:
	default:
		rows = []any{s}
	}
	cols := v.columns
	if cols == nil {
		cols = genericColumns(rows)
	}
	header := make([]string, len(cols))
	out := make([][]any, len(rows))
	for i, col := range cols {
		header[i] = col.header
	}
	for r, row := range rows {
		out[r] = make([]any, len(cols))
		for i, col := range cols {
			if col.expr == "@" {
				out[r][i] = row
				continue
			}
			cell, err := jmespath.Search(col.expr, row)
			if err != nil {
				return nil, nil, fmt.Errorf("column %s: %w", col.header, err)
			}
			out[r][i] = cell
		}
	}
	return header, out, nil
}

// genericColumns returns the columns of rows that a query made: one per
// field of the objects that holds a scalar (not null) or a list of
// scalars, by name;
// Column1, Column2 ... for rows that are lists; else a single Result.
func genericColumns(rows []any) []column {
	seen := map[string]bool{}
	objects, lists := false, 0
	for _, row := range rows {
		switch r := row.(type) {
		case map[string]any:
			objects = true
			for k, v := range r {
				if _, nested := v.(map[string]any); v != nil && !nested && !isNestedList(v) {
					seen[k] = true
				}
			}
		case []any:
			lists = max(lists, len(r))
		}
	}
	switch {
	case lists > 0 && !objects:
		cols := make([]column, lists)
		for i := range cols {
			cols[i] = column{fmt.Sprintf("Column%d", i+1), fmt.Sprintf("[%d]", i)}
		}
		return cols
	case !objects:
		return []column{{"Result", "@"}}
	}
	var cols []column
	for _, k := range slices.Sorted(maps.Keys(seen)) {
		cols = append(cols, column{k, jmespathField(k)})
	}
	return cols
}

// isNestedList reports whether v is a list holding objects or lists.
func isNestedList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		switch e.(type) {
		case map[string]any, []any:
			return true
		}
	}
	return false
}

// jmespathField returns the JMESPath expression of the field name.
func jmespathField(name string) string {
	b, _ := json.Marshal(name)
	return string(b)
}

// cell formats one value of a table or a TSV line. Times are shortened to
// seconds in tables (human is set).
func cell(v any, human bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if human {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.Format(time.RFC3339)
			}
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e, human)
		}
		if human {
			return strings.Join(parts, ", ")
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeTable writes a table for people: a header, a line of dashes and
// the rows, columns padded to their widest cell.
func writeTable(w io.Writer, header []string, rows [][]any) error {
	cells := make([][]string, 0, len(rows)+2)
	cells = append(cells, header)
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, row := range rows {
		line := make([]string, len(row))
		for i, v := range row {
			line[i] = strings.NewReplacer("\n", " ", "\t", " ").Replace(cell(v, true))
			widths[i] = max(widths[i], len([]rune(line[i])))
		}
		cells = append(cells, line)
	}
	dashes := make([]string, len(header))
	for i := range dashes {
		dashes[i] = strings.Repeat("-", widths[i])
	}
	cells = slices.Insert(cells, 1, dashes)
	var b strings.Builder
	for _, line := range cells {
		var l strings.Builder
		for i, s := range line {
			l.WriteString(s + strings.Repeat(" ", widths[i]-len([]rune(s))+2))
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTSV writes rows as tab-separated values without a header, for
// scripts.
func writeTSV(w io.Writer, rows [][]any) error {
	var b strings.Builder
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(strings.NewReplacer("\n", " ", "\t", " ").Replace(cell(v, false)))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// callAndPrint calls the management API with the command's client and
// prints the answer in the output format, or returns the call's error.
func (c *cli) callAndPrint(cmd *cobra.Command, v view, call func(*client.Client) (any, error)) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	result, err := call(cl)
	if err != nil {
		return err
	}
	return c.print(cmd, result, v)
}
