package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"cell":  func(v any) string { return Cell(v, true) },
	"isNum": func(v any) bool { _, s := v.(string); return !s },
}).Parse(htmlTemplate))

// RenderHTML writes the report as one self-contained HTML page (inline CSS and SVG charts).
func RenderHTML(w io.Writer, r *Report) error {
	tables := map[string]Table{}
	for _, t := range r.Tables() {
		tables[t.ID] = t
	}
	return htmlTmpl.Execute(w, map[string]any{
		"R": r, "T": tables, "KeyPoints": keyPoints(r), "Handling": handlingText(r),
		"Last": r.To.Add(-time.Hour), "Bar": svgBar(r), "Line": svgLine(r), "Matrix": svgMatrix(r),
	})
}

func rgb(c [3]int) string { return fmt.Sprintf("rgb(%d,%d,%d)", c[0], c[1], c[2]) }

// svgAxes draws the y grid of a chart of height h with its top value.
func svgAxes(b *strings.Builder, x, y, w, h, top float64) {
	for i := 0; i <= 4; i++ {
		gy := y + h - h*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc"/>`, x, gy, x+w, gy)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x-4, gy+3, grouped(fmt.Sprint(int64(top*float64(i)/4))))
	}
}

func svgDays(b *strings.Builder, r *Report, x, y, step float64) {
	for i, d := range r.Daily {
		if i%3 == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`, x+step*float64(i), y+12, d.Day[8:])
		}
	}
}

func svgBar(r *Report) template.HTML {
	const x, y, w, h = 60.0, 10.0, 640.0, 200.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="250" role="img" aria-label="日別の事象数">`)
	var top float64
	for _, d := range r.Daily {
		var s uint64
		for _, v := range d.Events {
			s += v
		}
		top = max(top, float64(s))
	}
	top = niceMax(top)
	svgAxes(&b, x, y, w, h, top)
	step := w / float64(max(1, len(r.Daily)))
	for i, d := range r.Daily {
		base := y + h
		for _, z := range zoneNames() {
			bh := h * float64(d.Events[z]) / top
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s %d</title></rect>`,
				x+step*float64(i)+step*0.15, base-bh, step*0.7, bh, rgb(zoneColours[z]), d.Day, ZoneJa(z), d.Events[z])
			base -= bh
		}
	}
	svgDays(&b, r, x, y+h, step)
	lx := x
	for _, z := range zoneNames() {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`, lx, y+h+22, rgb(zoneColours[z]), lx+14, y+h+31, ZoneJa(z))
		lx += 170
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func svgLine(r *Report) template.HTML {
	const x, y, w, h = 60.0, 10.0, 640.0, 160.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="210" role="img" aria-label="日別の推移">`)
	var top float64
	for _, d := range r.Daily {
		top = max(top, float64(d.Denied), float64(d.Alerts))
	}
	top = niceMax(top)
	svgAxes(&b, x, y, w, h, top)
	step := w / float64(max(1, len(r.Daily)))
	for k, s := range []struct {
		name string
		c    [3]int
		v    func(DayZones) uint64
	}{{"遮断・失敗", [3]int{192, 57, 43}, func(d DayZones) uint64 { return d.Denied }}, {"アラート", [3]int{41, 128, 185}, func(d DayZones) uint64 { return d.Alerts }}} {
		var pts []string
		for i, d := range r.Daily {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+step*(float64(i)+0.5), y+h-h*float64(s.v(d))/top))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, rgb(s.c), strings.Join(pts, " "))
		lx := x + float64(k)*150
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/><text x="%.1f" y="%.1f">%s</text>`, lx, y+h+26, lx+14, y+h+26, rgb(s.c), lx+18, y+h+30, s.name)
	}
	svgDays(&b, r, x, y+h, step)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func svgMatrix(r *Report) template.HTML {
	zones := r.MatrixZone
	const label, cell = 110.0, 56.0
	n := float64(len(zones))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="ゾーン間の事象数">`, label+cell*n+10, 20+cell*n+10)
	var top float64
	for _, c := range r.Matrix {
		top = max(top, float64(c.Events))
	}
	for j, z := range zones {
		fmt.Fprintf(&b, `<text x="%.1f" y="14" text-anchor="middle">%s</text>`, label+cell*(float64(j)+0.5), template.HTMLEscapeString(shortZone(z)))
	}
	for i, src := range zones {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s →</text>`, label-6, 20+cell*(float64(i)+0.5)+4, template.HTMLEscapeString(shortZone(src)))
		for j, dst := range zones {
			var c ZoneCell
			for _, m := range r.Matrix {
				if m.Source == src && m.Destination == dst {
					c = m
				}
			}
			_, forbidden := policyItemOf(src, dst)
			forbidden = forbidden && !(src == "internet" && dst == "external")
			shade := 0.0
			if c.Events > 0 && top > 0 {
				shade = math.Log1p(float64(c.Events)) / math.Log1p(top)
			}
			g := int(255 - 160*shade)
			cx, cy := label+cell*float64(j), 20+cell*float64(i)
			stroke, sw, colour := "#ccc", 1.0, "#000"
			if forbidden {
				stroke, sw = "#c00000", 3
				if c.Events > 0 {
					colour = "#c00000"
				}
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="rgb(%d,%d,255)" stroke="%s" stroke-width="%.0f"><title>%s → %s: %d（遮断 %d）</title></rect>`,
				cx+1, cy+1, cell-2, cell-2, g, min(255, g+int(20*shade)), stroke, sw, ZoneJa(src), ZoneJa(dst), c.Events, c.Denied)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, cx+cell/2, cy+cell/2+4, colour, compact(c.Events))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
