package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/config"
)

func TestIFilterCategoriesFileAndInline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cats.csv")
	if err := os.WriteFile(path, []byte("# exported from i-FILTER\n9001,malware\n9002, phishing\n0101,news\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ifilterCategories(config.Parse{IFilterCategoriesFile: path, IFilterCategories: map[string]string{"0101": "ニュース"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"9001": "malware", "9002": "phishing", "0101": "ニュース"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("code %s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("9001,malware\n9002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   config.Parse
		want []string
	}{
		{"missing file", config.Parse{IFilterCategoriesFile: filepath.Join(dir, "none.csv")}, []string{"parse.ifilter_categories_file", "none.csv"}},
		{"short line", config.Parse{IFilterCategoriesFile: bad}, []string{"parse.ifilter_categories_file", "line 2", "code,name"}},
		{"unknown column", config.Parse{IFilterLayout: []string{"time", "no_such_column"}}, []string{"parse", "no_such_column"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := newParsers(c.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestExampleParseSectionBuildsParsers: the example configuration's parse section (empty layouts, the
// category table) is what the quick start runs with; serve must accept it.
func TestExampleParseSectionBuildsParsers(t *testing.T) {
	cfg, err := config.Load("../../deploy/zonewatch.example.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newParsers(cfg.Parse); err != nil {
		t.Fatalf("the example's parse section: %v", err)
	}
	if cfg.Parse.IFilterCategories["9001"] != "malware" {
		t.Errorf("the example maps 9001 to %q, want malware", cfg.Parse.IFilterCategories["9001"])
	}
}
