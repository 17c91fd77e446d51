package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/internal/config"
)

// newParsers builds the body parsers from the configuration's parse section.
func newParsers(c config.Parse) (*parse.Parsers, error) {
	cats, err := ifilterCategories(c)
	if err != nil {
		return nil, err
	}
	p, err := parse.New(parse.Options{IFilterLayout: c.IFilterLayout, InterSafeLayout: c.InterSafeLayout,
		IFilterCategories: cats, AppNames: c.AppNames, MaxLabels: c.MaxLabels})
	if err != nil {
		return nil, fmt.Errorf("configuration key parse: %w", err)
	}
	return p, nil
}

// ifilterCategories merges the category file with the inline table (inline wins).
func ifilterCategories(c config.Parse) (map[string]string, error) {
	if c.IFilterCategoriesFile == "" {
		return c.IFilterCategories, nil
	}
	f, err := os.Open(c.IFilterCategoriesFile)
	if err != nil {
		return nil, fmt.Errorf("configuration key parse.ifilter_categories_file: %w", err)
	}
	defer f.Close()
	cats, err := readCategoryCSV(f)
	if err != nil {
		return nil, fmt.Errorf("configuration key parse.ifilter_categories_file %s: %w (expected code,name lines)", c.IFilterCategoriesFile, err)
	}
	for code, name := range c.IFilterCategories {
		cats[code] = name
	}
	return cats, nil
}

func readCategoryCSV(r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cats := map[string]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return cats, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("line %d: %q is not code,name", line, strings.Join(rec, ","))
		}
		cats[strings.TrimSpace(rec[0])] = strings.TrimSpace(rec[1])
	}
}
