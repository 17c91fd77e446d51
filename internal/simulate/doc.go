// Package simulate generates realistic, labelled log traffic for zonewatch.
package simulate
