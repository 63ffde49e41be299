package abi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
)

// TestWhereNames checks that the parts the validator names only for an
// error read as the ones it used to format for every table: the names in
// MalformedError.Part are part of what users see.
func TestWhereNames(t *testing.T) {
	d := &dynamic{}
	d.ent[dynSlot(dtVerneed)] = dynEntry{val: 0x1000, index: 7, set: true}
	d.ent[dynSlot(dtStrTab)] = dynEntry{val: 0x200, index: 3, set: true}
	rec := d.entry(dtVerneed)
	rec.rec = 2 + 1
	ent := rec
	ent.subWord, ent.sub = "entry", 4+1
	for _, c := range []struct {
		got  where
		want string
	}{
		{named("PT_DYNAMIC"), "PT_DYNAMIC"},
		{numbered("DT_NEEDED", 2), fmt.Sprintf("DT_NEEDED %d", 2)},
		{d.entry(dtStrTab), "dynamic entry 3 (DT_STRTAB)"},
		{rec, fmt.Sprintf("%s record %d", "dynamic entry 7 (DT_VERNEED)", 2)},
		{ent, fmt.Sprintf("%s entry %d", "dynamic entry 7 (DT_VERNEED) record 2", 4)},
		{where{s: "relocation", n: 5, num: true, in: true, inTag: dtJmpRel}, fmt.Sprintf("relocation %d in %s", 5, "DT_JMPREL")},
		{numbered("symbol", 12), fmt.Sprintf("symbol %d", 12)},
	} {
		if s := c.got.String(); s != c.want {
			t.Errorf("part named %q, want %q", s, c.want)
		}
		var m *MalformedError
		if err := malformed(c.got, "x"); !errors.As(err, &m) || m.Part != c.want {
			t.Errorf("malformed(%q) = %v, want Part %q", c.want, err, c.want)
		}
	}
}

// TestDynSlots checks that every tag the validator names has a slot of
// its own in the dynamic section's array.
func TestDynSlots(t *testing.T) {
	seen := map[int]uint64{}
	for tag := range dtNames {
		i := dynSlot(tag)
		if i < 0 || i >= len(dynamic{}.ent) {
			t.Errorf("tag %#x (%s) has no slot", tag, dtName(tag))
			continue
		}
		if other, dup := seen[i]; dup {
			t.Errorf("tags %#x and %#x share slot %d", tag, other, i)
		}
		seen[i] = tag
	}
}

// TestCheckHeaderFromAgrees checks CheckHeaderFrom against CheckHeader on
// a library and on its truncations, and that it refuses a head shorter
// than what it must be given.
func TestCheckHeaderFromAgrees(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe) // an ELF executable on the platforms that run this
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(data), HeaderSize + 10, HeaderSize, 4000, 64, 0} {
		if n > len(data) {
			continue
		}
		b := data[:n]
		r := bytes.NewReader(b)
		img1, err1 := CheckHeader("f", r, int64(n))
		img2, err2 := CheckHeaderFrom("f", b[:min(n, HeaderSize)], r, int64(n))
		if fmt.Sprint(err1) != fmt.Sprint(err2) || img1.Format != img2.Format || img1.MinSize != img2.MinSize {
			t.Errorf("%d bytes: CheckHeader = %+v, %v; CheckHeaderFrom = %+v, %v", n, img1, err1, img2, err2)
		}
	}
	if n := min(len(data), HeaderSize); n > 1 {
		if _, err := CheckHeaderFrom("f", data[:n-1], bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrInvalidModule) {
			t.Errorf("CheckHeaderFrom with a short head = %v, want ErrInvalidModule", err)
		}
	}
}
