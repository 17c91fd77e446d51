package report_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// need returns the path of a command-line tool; without it the test skips, or fails under CI=true.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		msg := fmt.Sprintf("%s not found (Debian's poppler-utils; ./deploy/setup.sh installs it): %v", tool, err)
		if chtest.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// needFont is the Japanese font, skipping (failing under CI=true) without it.
func needFont(t *testing.T) string {
	t.Helper()
	p, err := report.FindFont("")
	if err != nil {
		if chtest.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

func renderPDF(t *testing.T, r *report.Report) []byte {
	t.Helper()
	needFont(t)
	var b bytes.Buffer
	if err := report.RenderPDF(&b, r, report.PDFOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var headings = []string{"1. 概要", "2. ゾーン別の状況", "3. ゾーン間通信の試行", "4. 時間外の利用", "5. 不審な通信",
	"6. アラート対応状況", "7. 主なインシデント", "8. 委員会での判断を求める事項"}

// figures are numbers of the model that the PDF and HTML must show, formatted as printed.
func figures(r *report.Report) []string {
	g := func(v any) string { return report.Cell(v, true) }
	out := []string{g(r.Summary.Events), g(r.Summary.PrevEvents), g(r.Summary.Denied), g(r.Summary.Alerts), g(r.Summary.PrevAlerts)}
	for _, z := range r.Zones {
		out = append(out, z.NameJa, g(z.Events), g(z.PrevEvents))
	}
	for _, in := range r.Incidents {
		out = append(out, in.Rule, in.FirstSeen.Format("2006-01-02"), in.FirstSeen.Format("15:04"))
	}
	for _, c := range r.CrossZone {
		for _, s := range c.TopSources {
			out = append(out, s.Key)
		}
	}
	return out
}

func checkPDF(t *testing.T, r *report.Report, path string) {
	needFont(t)
	pdftoppm, pdftotext := need(t, "pdftoppm"), need(t, "pdftotext")
	dir := t.TempDir()
	if out, err := exec.Command(pdftoppm, "-r", "40", "-png", path, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm cannot render %s: %v\n%s", path, err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) < 4 || len(pages) > 14 {
		t.Errorf("%d pages: a committee member should read it in ten minutes (4–14 pages)", len(pages))
	}
	for _, p := range pages {
		if st, err := os.Stat(p); err != nil || st.Size() < 2000 {
			t.Errorf("page image %s is missing or blank", p)
		}
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	text := string(out)
	if !regexp.MustCompile(fmt.Sprintf(`\b1\s*/\s*%d\b`, len(pages))).MatchString(text) {
		t.Errorf("the footer lacks the page number 1 / %d", len(pages))
	}
	for _, s := range append(append(headings, r.Title, r.Marking), figures(r)...) {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	if strings.Contains(text, "{nb}") {
		t.Error("the page count alias was not replaced")
	}
}

func checkHTML(t *testing.T, r *report.Report, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<svg")) {
		t.Error("the HTML has no inline SVG chart")
	}
	page := html.UnescapeString(string(b))
	for _, s := range append(append(headings, r.Title, r.Marking), figures(r)...) {
		if !strings.Contains(page, s) {
			t.Errorf("the HTML lacks %q", s)
		}
	}
	for _, tb := range r.Tables() {
		if !strings.Contains(page, `id="`+tb.ID+`"`) {
			t.Errorf("the HTML lacks table %s", tb.ID)
		}
		for _, row := range tb.Rows {
			for _, v := range row {
				if s := report.Cell(v, true); !strings.Contains(page, ">"+s+"<") {
					t.Errorf("table %s: the HTML lacks the cell %q", tb.ID, s)
				}
			}
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script") {
		if strings.Contains(page, "<script") || strings.Contains(page, "src=\"http") || strings.Contains(page, "href=\"http") {
			t.Error("the HTML should be self-contained (no scripts or external resources)")
		}
	}
}

func checkCSV(t *testing.T, r *report.Report, dir string) {
	for _, tb := range r.Tables() {
		b, err := os.ReadFile(filepath.Join(dir, tb.ID+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\uFEFF")) {
			t.Errorf("%s.csv has no byte-order mark: Excel would misread the Japanese", tb.ID)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv: %v", tb.ID, err)
		}
		want := [][]string{tb.Header}
		for _, row := range tb.Rows {
			var rec []string
			for _, v := range row {
				rec = append(rec, report.Cell(v, false))
			}
			want = append(want, rec)
		}
		if fmt.Sprint(recs) != fmt.Sprint(want) {
			t.Errorf("%s.csv differs from the model's table:\n got %v\nwant %v", tb.ID, recs, want)
		}
	}
}

func checkXLSX(t *testing.T, r *report.Report, path string) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := r.Tables()
	if n := len(f.GetSheetList()); n != len(tables) {
		t.Errorf("%d sheets, want one per table (%d)", n, len(tables))
	}
	same := func(a, b string) bool {
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 == nil && err2 == nil {
			return x == y
		}
		return a == b
	}
	for _, tb := range tables {
		rows, err := f.GetRows(report.SheetName(tb))
		if err != nil {
			t.Fatalf("sheet %s: %v", tb.ID, err)
		}
		if len(rows) != len(tb.Rows)+2 || fmt.Sprint(rows[1]) != fmt.Sprint(tb.Header) {
			t.Errorf("sheet %s: %d rows with header %v, want %d and %v", tb.ID, len(rows), rows[min(1, len(rows)-1)], len(tb.Rows)+2, tb.Header)
			continue
		}
		for i, row := range tb.Rows {
			for j, v := range row {
				got := ""
				if j < len(rows[i+2]) {
					got = rows[i+2][j]
				}
				if want := report.Cell(v, false); !same(got, want) {
					t.Errorf("sheet %s row %d column %s: %q, want %q", tb.ID, i+1, tb.Header[j], got, want)
				}
			}
		}
	}
}

func TestPDFWithoutFont(t *testing.T) {
	var b bytes.Buffer
	err := report.RenderPDF(&b, &report.Report{Month: month}, report.PDFOptions{FontPath: filepath.Join(t.TempDir(), "missing.ttf")})
	if !errors.Is(err, report.ErrNoFont) || !strings.Contains(err.Error(), "missing.ttf") {
		t.Fatalf("a missing font: %v, want ErrNoFont naming the file", err)
	}
}

func TestMonthRange(t *testing.T) {
	for _, tc := range []struct {
		in, from, to string
		bad          bool
	}{
		{in: "2026-11", from: "2026-11-01T00:00:00+09:00", to: "2026-12-01T00:00:00+09:00"},
		{in: "2026-12", from: "2026-12-01T00:00:00+09:00", to: "2027-01-01T00:00:00+09:00"},
		{in: "2026-13", bad: true},
		{in: "2026/11", bad: true},
		{in: "", bad: true},
	} {
		from, to, err := report.MonthRange(tc.in)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
				t.Errorf("%q: %v, want an error asking for YYYY-MM", tc.in, err)
			}
			continue
		}
		if err != nil || from.Format("2006-01-02T15:04:05Z07:00") != tc.from || to.Format("2006-01-02T15:04:05Z07:00") != tc.to {
			t.Errorf("%q: %s – %s (%v), want %s – %s", tc.in, from, to, err, tc.from, tc.to)
		}
	}
}
