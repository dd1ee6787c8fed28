package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The ANSI colors of -o jsonc.
const (
	colorKey    = "\x1b[94m"
	colorString = "\x1b[32m"
	colorOther  = "\x1b[36m"
	colorReset  = "\x1b[0m"
)

// colorJSON writes indented JSON with its keys, strings and other scalars
// in ANSI colors.
func colorJSON(w io.Writer, indented []byte) error {
	var b bytes.Buffer
	for i := 0; i < len(indented); {
		c := indented[i]
		switch {
		case c == '"':
			end := i + 1
			for end < len(indented) && indented[end] != '"' {
				if indented[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(indented))
			color := colorString
			if rest := bytes.TrimLeft(indented[end:], " "); len(rest) > 0 && rest[0] == ':' {
				color = colorKey
			}
			b.WriteString(color)
			b.Write(indented[i:end])
			b.WriteString(colorReset)
			i = end
		case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
			end := i
			for end < len(indented) && !strings.ContainsRune(",]} \n", rune(indented[end])) {
				end++
			}
			b.WriteString(colorOther)
			b.Write(indented[i:end])
			b.WriteString(colorReset)
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// jsonObject is a JSON object with its fields in their order.
type jsonObject struct {
	keys []string
	vals []any
}

// decodeOrdered decodes one JSON value, keeping the order of object fields
// and numbers as they are written.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := &jsonObject{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj.keys, obj.vals = append(obj.keys, k.(string)), append(obj.vals, v)
		}
		_, err = dec.Token()
		return obj, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err = dec.Token()
		return list, err
	}
	return tok, nil
}

// writeYAML writes the JSON document raw as YAML, fields in their order.
func writeYAML(w io.Writer, raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	var b strings.Builder
	yamlBlock(&b, v, "")
	_, err = io.WriteString(w, b.String())
	return err
}

// yamlBlock writes v at the start of a line, indented by ind.
func yamlBlock(b *strings.Builder, v any, ind string) {
	switch x := v.(type) {
	case *jsonObject:
		if len(x.keys) == 0 {
			b.WriteString(ind + "{}\n")
		}
		for i, k := range x.keys {
			yamlEntry(b, ind, yamlScalar(k)+":", x.vals[i])
		}
	case []any:
		if len(x) == 0 {
			b.WriteString(ind + "[]\n")
		}
		for _, e := range x {
			yamlEntry(b, ind, "-", e)
		}
	default:
		b.WriteString(ind + yamlScalar(x) + "\n")
	}
}

// yamlEntry writes a mapping entry ("key:") or a sequence item ("-") with
// its value v.
func yamlEntry(b *strings.Builder, ind, head string, v any) {
	nested := false
	switch x := v.(type) {
	case *jsonObject:
		nested = len(x.keys) > 0
	case []any:
		nested = len(x) > 0
	}
	switch {
	case !nested:
		b.WriteString(ind + head + " " + yamlScalar(v) + "\n")
	case head == "-":
		// An item's first line goes beside its dash.
		var sub strings.Builder
		yamlBlock(&sub, v, ind+"  ")
		b.WriteString(ind + "- " + strings.TrimPrefix(sub.String(), ind+"  "))
	default:
		b.WriteString(ind + head + "\n")
		if _, list := v.([]any); list {
			yamlBlock(b, v, ind)
		} else {
			yamlBlock(b, v, ind+"  ")
		}
	}
}

// yamlPlain matches the strings that YAML reads back as the same string
// without quotes.
var yamlPlain = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./@+:-]*$`)

// yamlScalar writes a scalar or an empty container in YAML's flow style;
// strings that could read as something else are quoted as JSON strings,
// which YAML reads the same.
func yamlScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case *jsonObject:
		return "{}"
	case []any:
		return "[]"
	case string:
		switch strings.ToLower(x) {
		case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		default:
			if yamlPlain.MatchString(x) && !strings.HasSuffix(x, ":") {
				return x
			}
		}
		q, _ := json.Marshal(x)
		return string(q)
	}
	return fmt.Sprint(v)
}
