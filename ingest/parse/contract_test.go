package parse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/ingest/envelope"
	"github.com/zonewatch/zonewatch/internal/event"
)

// TestSimulatorContract parses every example line of the simulator's wire formats
// (internal/simulate/testdata/formats.golden, "# <format> <what> (<transport>)" then the line) the way the
// pipeline does: syslog lines through the envelope parser and Parse, file lines through ParseFile. Each
// must be understood without error, as the format its heading names.
func TestSimulatorContract(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "simulate", "testdata", "formats.golden"))
	if err != nil {
		t.Fatalf("simulator examples missing (internal/simulate/testdata/formats.golden): %v", err)
	}
	p := testParsers(t)
	env := envelope.New(envelope.Options{Location: tokyo()})
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	n := 0
	for i := 0; i+1 < len(lines); i++ {
		head, ok := strings.CutPrefix(lines[i], "# ")
		if !ok {
			continue
		}
		line := lines[i+1]
		want, _, _ := strings.Cut(head, " ")
		transport := head[strings.LastIndexByte(head, '(')+1 : len(head)-1]
		t.Run(head, func(t *testing.T) {
			var e event.Event
			var got string
			if transport == "file" {
				got, err = want, p.ParseFile(want, line, nil, &e)
			} else {
				en, err := env.Parse([]byte(line))
				if err != nil {
					t.Fatalf("envelope: %v", err)
				}
				got, err = p.Parse(Input{AppName: en.AppName, Hostname: en.Hostname, Body: en.Body}, &e)
			}
			if err != nil || got != want || e.Meta.Module != want {
				t.Fatalf("format %q (module %q), err %v; want %s without error\n%s", got, e.Meta.Module, err, want, line)
			}
			if e.Meta.Action == "" || e.Meta.Category == "" {
				t.Errorf("no action or category: %+v", e.Meta)
			}
			if bodyHasTime := want != FormatSSHD && want != FormatIPTables && want != FormatGateway; bodyHasTime && e.Timestamp.IsZero() {
				t.Errorf("%s line gave no time", want)
			}
		})
		n++
	}
	if n < 20 {
		t.Errorf("only %d examples found", n)
	}
}
