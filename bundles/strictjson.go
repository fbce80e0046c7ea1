package bundles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// OPA signs a structured document (.manifest, data.json, data.yaml) by the
// digest of its parsed value, not of its bytes, and so does not bind the
// bytes: two documents that parse to one value share a signature. That is
// only safe when every reader parses them to that one value. A duplicate
// key (encoding/json keeps the last, other readers the first or an error),
// data after the document, invalid UTF-8, an unpaired surrogate escape (both
// become U+FFFD here, raw bytes or an error elsewhere), a byte-order mark
// (OPA strips it, encoding/json refuses it) and, in the documents charter
// decodes into Go structs (.manifest, .signatures.json), top-level keys
// that differ only in case (encoding/json matches field names without
// case) all break that, so a verifier refuses them.

// checkStructured refuses a structured bundle file that readers may parse
// differently; other files are bound by their bytes and pass.
func checkStructured(name string, data []byte) error {
	switch path.Base(name) {
	case ".manifest", SignaturesFile:
		return strictJSON(data, true)
	case "data.json":
		return strictJSON(data, false)
	case "data.yaml":
		if _, err := yaml.YAMLToJSONStrict(data); err != nil {
			return fmt.Errorf("is not strict YAML (a duplicate key?): %v", err)
		}
	}
	return nil
}

// checkAllStructured runs checkStructured on every file, as a
// *VerificationFailure naming the file.
func checkAllStructured(files Files) error {
	for _, n := range files.Names() {
		if err := checkStructured(n, files[n]); err != nil {
			return fail("%s %v, so readers may disagree on what was signed", n, err)
		}
	}
	return nil
}

// jsonFrame is one open object or array while strictJSON walks a document.
type jsonFrame struct {
	object  bool
	keys    map[string]bool
	folded  map[string]string // lower-cased key -> key, when case matters
	wantKey bool
	key     string // the key whose value is being read
	index   int    // arrays: the element being read
	where   string
}

func (f *jsonFrame) child() string {
	if f.object {
		if f.where == "" {
			return strconv.Quote(f.key)
		}
		return f.where + "." + strconv.Quote(f.key)
	}
	return fmt.Sprintf("%s[%d]", f.where, f.index)
}

// strictJSON accepts exactly one JSON value, in valid UTF-8 without a
// byte-order mark, with no key twice in any object, no string holding
// U+FFFD (what invalid sequences and unpaired surrogate escapes decode to)
// and nothing after it. With foldTop, top-level keys must also differ in
// more than case.
func strictJSON(data []byte, foldTop bool) error {
	if !utf8.Valid(data) {
		return errors.New("is not valid UTF-8")
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		return errors.New("starts with a byte-order mark")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	done := false
	for !done {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("is not valid JSON: %v", err)
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				done = valueRead(stack)
				continue
			}
			k, _ := tok.(string)
			if err := top.addKey(k); err != nil {
				return err
			}
			continue
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
			where := "at the top level"
			if top != nil {
				where = "at " + top.child()
			}
			return fmt.Errorf("holds U+FFFD in the string %s (what invalid UTF-8 and unpaired surrogate escapes decode to)", where)
		}
		switch tok {
		case json.Delim('{'):
			f := &jsonFrame{object: true, keys: map[string]bool{}, wantKey: true}
			if top != nil {
				f.where = top.child()
			} else if foldTop {
				f.folded = map[string]string{}
			}
			stack = append(stack, f)
		case json.Delim('['):
			f := &jsonFrame{}
			if top != nil {
				f.where = top.child()
			}
			stack = append(stack, f)
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			done = valueRead(stack)
		default:
			done = valueRead(stack)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("has data after its JSON document")
	}
	return nil
}

func (f *jsonFrame) addKey(k string) error {
	where := "at the top level"
	if f.where != "" {
		where = "in " + f.where
	}
	if strings.ContainsRune(k, utf8.RuneError) {
		return fmt.Errorf("holds U+FFFD in a key %s (what invalid UTF-8 and unpaired surrogate escapes decode to)", where)
	}
	if f.keys[k] {
		return fmt.Errorf("has the key %q twice %s", k, where)
	}
	if f.folded != nil {
		lk := foldKey(k)
		if prev, ok := f.folded[lk]; ok {
			return fmt.Errorf("has the keys %q and %q %s, which differ only in case", prev, k, where)
		}
		f.folded[lk] = k
	}
	f.keys[k] = true
	f.key = k
	f.wantKey = false
	return nil
}

// valueRead records that the frame on top of stack got a whole value, and
// reports whether that was the document itself.
func valueRead(stack []*jsonFrame) bool {
	if len(stack) == 0 {
		return true
	}
	top := stack[len(stack)-1]
	if top.object {
		top.wantKey = true
	} else {
		top.index++
	}
	return false
}

// foldKey maps keys that encoding/json matches to one struct field (its
// bytes.EqualFold) to one string: each rune becomes the smallest of its
// case-fold orbit.
func foldKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}
