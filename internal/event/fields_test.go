package event

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// leaf is one expr-tagged value field of Event found by reflection.
type leaf struct {
	path  string
	index []int
	typ   reflect.Type
}

func leaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("expr")
			if tag == "" {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[time.Time]() && sf.Type != reflect.TypeFor[netip.Addr]() {
				walk(sf.Type, prefix+tag+".", idx)
				continue
			}
			out = append(out, leaf{prefix + tag, idx, sf.Type})
		}
	}
	walk(reflect.TypeFor[Event](), "", nil)
	return out
}

// TestFieldsCoverTheEvent checks the table against the Event type both ways: every expr-tagged
// field is in it once, with the right kind, and its Get reads that field and no other.
func TestFieldsCoverTheEvent(t *testing.T) {
	ls := leaves()
	if len(ls) != len(Fields()) {
		t.Errorf("Event has %d expr fields, the table %d", len(ls), len(Fields()))
	}
	columns := map[string]bool{}
	for _, f := range Fields() {
		if columns[f.Column] {
			t.Errorf("column %s appears twice", f.Column)
		}
		columns[f.Column] = true
	}
	for i, l := range ls {
		f, ok := LookupField(l.path)
		if !ok {
			t.Errorf("Event field %s is not in the table", l.path)
			continue
		}
		if c, ok := LookupColumn(f.Column); !ok || c.Path != f.Path {
			t.Errorf("LookupColumn(%s) = %v, %v", f.Column, c.Path, ok)
		}
		// Give this one field a value of its own, every other one its zero value.
		var e Event
		v := reflect.ValueOf(&e).Elem().FieldByIndex(l.index)
		var want any
		switch l.typ.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("v%d", i))
			want = fmt.Sprintf("v%d", i)
		case reflect.Uint8, reflect.Uint16, reflect.Uint64:
			v.SetUint(uint64(i + 1))
			want = uint64(i + 1)
		case reflect.Bool:
			v.SetBool(true)
			want = true
		case reflect.Map:
			v.Set(reflect.ValueOf(map[string]string{"k": "v"}))
			want = map[string]string{"k": "v"}
		default:
			switch l.typ {
			case reflect.TypeFor[time.Time]():
				ts := time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)
				v.Set(reflect.ValueOf(ts))
				want = ts
			case reflect.TypeFor[netip.Addr]():
				a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
				v.Set(reflect.ValueOf(a))
				want = a
			default:
				t.Fatalf("%s: type %s: teach this test (and the table's Kind) about it", l.path, l.typ)
			}
		}
		if got := f.Get(&e); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Get = %#v, want %#v", l.path, got, want)
		}
		for _, other := range Fields() {
			if other.Path != f.Path && !reflect.ValueOf(other.Get(&e)).IsZero() {
				t.Errorf("setting %s changes %s's Get: %#v", l.path, other.Path, other.Get(&e))
			}
		}
		wantKind := map[reflect.Kind]Kind{reflect.String: KindString, reflect.Uint8: KindUint, reflect.Uint16: KindUint,
			reflect.Uint64: KindUint, reflect.Bool: KindBool, reflect.Map: KindMap}[l.typ.Kind()]
		switch l.typ {
		case reflect.TypeFor[time.Time]():
			wantKind = KindTime
		case reflect.TypeFor[netip.Addr]():
			wantKind = KindIP
		}
		if f.Kind != wantKind {
			t.Errorf("%s: kind %s, want %s", l.path, f.Kind, wantKind)
		}
	}
	for _, g := range []string{"source", "event", "log"} {
		if !IsGroup(g) {
			t.Errorf("IsGroup(%q) = false", g)
		}
	}
	for _, p := range []string{"source.zone", "labels", "sources"} {
		if IsGroup(p) {
			t.Errorf("IsGroup(%q) = true", p)
		}
	}
	for _, f := range Fields() {
		if g, _, ok := strings.Cut(f.Path, "."); ok && !IsGroup(g) {
			t.Errorf("%s: group %q is not listed in groups", f.Path, g)
		}
	}
}
