package controlplane

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// rawMessageType is json.RawMessage: its content is read by its own parser.
var rawMessageType = reflect.TypeFor[json.RawMessage]()

// inexactName returns the first member name of body that encoding/json
// would take for a field of v's type only by folding its case (ROLE for
// role), or "". A proxy, an audit log or a client reading the body with
// the API's exact names would not see that member at all, while the
// server applied it. Map keys are data, not field names, and are not
// checked; a json.RawMessage field's content is left to its own parser.
func inexactName(body []byte, v any) string {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return ""
	}
	return inexactIn(doc, reflect.TypeOf(v))
}

func inexactIn(doc any, t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == rawMessageType {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return ""
		}
		fields := jsonFields(t)
		for name, val := range obj {
			if ft, ok := fields[name]; ok {
				if bad := inexactIn(val, ft); bad != "" {
					return bad
				}
				continue
			}
			for f := range fields {
				if strings.EqualFold(f, name) {
					return name
				}
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := doc.([]any)
		if !ok {
			return ""
		}
		for _, val := range arr {
			if bad := inexactIn(val, t.Elem()); bad != "" {
				return bad
			}
		}
	case reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			return ""
		}
		for _, val := range obj {
			if bad := inexactIn(val, t.Elem()); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// jsonFields maps the JSON names of struct type t's fields (as
// encoding/json names them, embedded structs' fields included) to their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ft := range jsonFields(et) {
					if _, ok := out[n]; !ok {
						out[n] = ft
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
