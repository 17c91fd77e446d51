package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Formats are the renderers Write knows.
var Formats = []string{"pdf", "html", "csv", "xlsx"}

// WriteOptions configure Write.
type WriteOptions struct {
	Dir     string
	Formats []string // default all
	PDF     PDFOptions
}

// Write renders r into o.Dir: zonewatch-report-YYYY-MM.pdf, .html, .xlsx and a csv/ folder with one
// file per table. It returns the paths written.
func Write(r *Report, o WriteOptions) ([]string, error) {
	if len(o.Formats) == 0 {
		o.Formats = Formats
	}
	for _, f := range o.Formats {
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("report format %q: want one of %s", f, strings.Join(Formats, ", "))
		}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("report output directory: %w", err)
	}
	base := filepath.Join(o.Dir, "zonewatch-report-"+r.Month)
	var out []string
	for _, f := range o.Formats {
		var paths []string
		var err error
		switch f {
		case "pdf":
			paths, err = writeFile(base+".pdf", func(w io.Writer) error { return RenderPDF(w, r, o.PDF) })
		case "html":
			paths, err = writeFile(base+".html", func(w io.Writer) error { return RenderHTML(w, r) })
		case "xlsx":
			paths, err = writeFile(base+".xlsx", func(w io.Writer) error { return RenderXLSX(w, r) })
		case "csv":
			paths, err = writeCSVDir(filepath.Join(o.Dir, "csv-"+r.Month), r)
		}
		if err != nil {
			return out, err
		}
		out = append(out, paths...)
	}
	return out, nil
}

// writeFile renders into memory first, so that a failed render leaves no half-written file.
func writeFile(path string, render func(io.Writer) error) ([]string, error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return nil, fmt.Errorf("render %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

func writeCSVDir(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range r.Tables() {
		p, err := writeFile(filepath.Join(dir, t.ID+".csv"), func(w io.Writer) error { return RenderCSV(w, t) })
		if err != nil {
			return out, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// RenderCSV writes one table as CSV, UTF-8 with a byte-order mark (so that Excel reads the Japanese
// headers right), numbers without grouping.
func RenderCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	for _, row := range t.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = Cell(v, false)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SheetName is a table's XLSX sheet name (at most 31 characters).
func SheetName(t Table) string { return t.ID[:min(len(t.ID), 31)] }

// RenderXLSX writes every table to its own sheet, with the table's Japanese title in the first row.
func RenderXLSX(w io.Writer, r *Report) error {
	f := excelize.NewFile()
	defer f.Close()
	date := r.Generated.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: r.Title, Creator: "zonewatch", Created: date, Modified: date, Language: "ja-JP"}); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}}})
	if err != nil {
		return err
	}
	for i, t := range r.Tables() {
		name := SheetName(t)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		if err := f.SetCellValue(name, "A1", fmt.Sprintf("%d. %s（%s）", t.Section, t.Title, r.Month)); err != nil {
			return err
		}
		if err := f.SetSheetRow(name, "A2", &t.Header); err != nil {
			return err
		}
		last, _ := excelize.CoordinatesToCellName(len(t.Header), 2)
		if err := f.SetCellStyle(name, "A2", last, bold); err != nil {
			return err
		}
		for j, row := range t.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, j+3)
			vals := slices.Clone(row)
			if err := f.SetSheetRow(name, cell, &vals); err != nil {
				return err
			}
		}
		for c, wd := range t.Widths {
			col, _ := excelize.ColumnNumberToName(c + 1)
			if err := f.SetColWidth(name, col, col, 6*wd+4); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}
