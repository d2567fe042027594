package sandbox

import (
	"reflect"
	"testing"
)

// TestInitArgsRoundTrip checks that the init reads back exactly what the
// parent encodes (the C init in init_cgo_linux.go reads the same layout).
func TestInitArgsRoundTrip(t *testing.T) {
	cfg := initConfig{
		Argv:    []string{"/usr/bin/python3", "-s", "-c", "print('a b')\nprint(2)"},
		Env:     []string{"HOME=/tmp", "LANG=C.UTF-8"},
		Rlimits: []rlimit{{Resource: 0, Cur: 5, Max: 5}, {Resource: 9, Cur: 1 << 30, Max: 1 << 30}},
		TmpSize: 64 << 20,
		HostUID: 65534,
		HostGID: 65533,
		Root:    true,
	}
	got, err := parseInitArgs(initArgs(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("round trip: got %+v, want %+v", got, cfg)
	}
}

func TestParseInitArgsRejectsBadInput(t *testing.T) {
	for _, a := range [][]string{
		nil,
		{"x"},
		{"0", "0", "0", "1024", "1", "0", "5"}, // rlimit cut short
		{"0", "0", "0", "1024", "0", "2", "HOME=/tmp"},    // fewer env entries than announced
		{"0", "0", "0", "1024", "0", "1", "HOME=/tmp"},    // no interpreter
		{"0", "0", "0", "1024", "-1", "0", "/usr/bin/py"}, // negative count
		{"0", "0", "2", "1024", "0", "0", "/usr/bin/py"},  // root flag not 0 or 1
	} {
		if cfg, err := parseInitArgs(a); err == nil {
			t.Errorf("parseInitArgs(%q) = %+v, want an error", a, cfg)
		}
	}
}
