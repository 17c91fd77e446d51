package config

// Parse adapts ingest's body parsers to the site's devices. i-FILTER and InterSafe let their
// administrators change the access log's columns, and i-FILTER logs category codes, not names: both
// come from here, with the products' defaults built in.
type Parse struct {
	// IFilterLayout and InterSafeLayout name the access logs' columns in order (names in
	// ingest/parse/layout.go). Empty: the built-in default layouts, told apart by their column counts.
	IFilterLayout   []string `yaml:"ifilter_layout"`
	InterSafeLayout []string `yaml:"intersafe_layout"`
	// IFilterCategories maps i-FILTER category codes to the names rules match on ("9001": malware).
	// IFilterCategoriesFile is a CSV file of code,name lines (exported from the product's category
	// list) read at start; entries in IFilterCategories override it. Without either, url.category
	// holds the bare code and the default pack's category rules cannot match.
	IFilterCategories     map[string]string `yaml:"ifilter_categories"`
	IFilterCategoriesFile string            `yaml:"ifilter_categories_file"`
	// AppNames maps further syslog app names to a body format, e.g. fgt-hq: fortigate.
	AppNames map[string]string `yaml:"app_names"`
	// MaxLabels bounds the labels one event gets from a generic JSON or key=value body (0: 32).
	MaxLabels int `yaml:"max_labels"`
}
