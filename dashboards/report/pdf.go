package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-pdf/fpdf"
)

// PDFOptions configure RenderPDF.
type PDFOptions struct {
	// FontPath is a TrueType font with Japanese glyphs; default Debian's IPAex Gothic (FindFont).
	FontPath string
}

// FontCandidates are where FindFont looks for IPAex Gothic (Debian's fonts-ipaexfont-gothic).
var FontCandidates = []string{
	"/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
	"/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
	"/usr/share/fonts/truetype/ipaexfont/ipaexg.ttf",
}

// ErrNoFont is returned when no Japanese font is found.
var ErrNoFont = errors.New("no Japanese font")

// FindFont returns path if set and readable, else the first of FontCandidates that exists.
func FindFont(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w: font %s: %v: give the path of a TrueType font with Japanese glyphs (e.g. ipaexg.ttf)", ErrNoFont, path, err)
		}
		return path, nil
	}
	for _, p := range FontCandidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if m, _ := filepath.Glob("/usr/share/fonts/*/*/ipaexg.ttf"); len(m) > 0 {
		return m[0], nil
	}
	return "", fmt.Errorf("%w: IPAex Gothic (ipaexg.ttf) is not in %s: install Debian's fonts-ipaexfont-gothic (deploy/setup.sh does) or name a font file with --font",
		ErrNoFont, strings.Join(FontCandidates, ", "))
}

// Page geometry, millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	fontName     = "jp"
)

// Colours of the three zones in charts.
var zoneColours = map[string][3]int{"mynumber": {192, 57, 43}, "lgwan": {41, 128, 185}, "internet": {39, 174, 96}}

type pdfDoc struct {
	*fpdf.Fpdf
	r *Report
}

// RenderPDF writes the report as an A4 portrait PDF in Japanese.
func RenderPDF(w io.Writer, r *Report, o PDFOptions) error {
	font, err := FindFont(o.FontPath)
	if err != nil {
		return err
	}
	ttf, err := os.ReadFile(font)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoFont, err)
	}
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{Fpdf: f, r: r}
	f.AddUTF8FontFromBytes(fontName, "", ttf)
	if err := f.Error(); err != nil {
		return fmt.Errorf("font %s: %w", font, err)
	}
	// Fixed dates and sorted catalogue: the same report gives the same bytes.
	f.SetCreationDate(r.Generated)
	f.SetModificationDate(r.Generated)
	f.SetCatalogSort(true)
	f.SetProducer("zonewatch", false)
	f.SetCreator("zonewatch report", false)
	f.SetTitle(r.Title, true)
	f.SetMargins(margin, margin+8, margin)
	f.SetAutoPageBreak(true, margin+6)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	f.AddPage()
	d.cover()
	tables := map[string]Table{}
	for _, t := range r.Tables() {
		tables[t.ID] = t
	}
	d.section1(tables)
	d.section2(tables)
	d.section3(tables)
	d.section4(tables)
	d.section5(tables)
	d.heading("6. アラート対応状況")
	d.para(handlingText(r))
	d.table(tables["06_handling"])
	d.heading("7. 主なインシデント")
	d.para("重要度の高いアラート（同じルールは2件まで）を、検知した事実のみで記載する。")
	d.table(tables["07_incidents"])
	d.heading("8. 委員会での判断を求める事項")
	if len(r.Decisions) == 0 {
		d.para("今月、判断を求める事項はない。")
	}
	for i, dec := range r.Decisions {
		d.para(fmt.Sprintf("(%d) 【%s】%s", i+1, DecisionKindJa(dec.Kind), dec.Text))
	}
	d.heading("付録 数値の再現方法")
	d.para(fmt.Sprintf("事象の数値は次のフィルタで zonewatch query により再現できる（期間 %s 〜 %s、日本時間。month は当月、prev は前月）。アラートと対応状況は alerts / alert_actions 表、収集状況は source_health_hourly 表による。",
		r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04")))
	d.table(tables["09_queries"])
	if err := f.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return f.Output(w)
}

func (d *pdfDoc) header() {
	d.SetFont(fontName, "", 8)
	d.SetTextColor(90, 90, 90)
	d.SetXY(margin, 8)
	title := d.r.Title
	if d.r.Organisation != "" {
		title = d.r.Organisation + "　" + title
	}
	d.CellFormat(contentW-30, 5, title, "", 0, "L", false, 0, "")
	d.SetTextColor(192, 0, 0)
	d.SetDrawColor(192, 0, 0)
	d.CellFormat(30, 6, d.r.Marking, "1", 0, "C", false, 0, "")
	d.SetDrawColor(160, 160, 160)
	d.Line(margin, 15.5, pageW-margin, 15.5)
	d.SetTextColor(0, 0, 0)
	d.SetY(margin + 8)
}

func (d *pdfDoc) footer() {
	d.SetY(-12)
	d.SetFont(fontName, "", 8)
	d.SetTextColor(90, 90, 90)
	d.CellFormat(contentW/3, 5, "作成 "+d.r.Generated.Format("2006-01-02")+" zonewatch", "", 0, "L", false, 0, "")
	d.CellFormat(contentW/3, 5, fmt.Sprintf("%d / {nb}", d.PageNo()), "", 0, "C", false, 0, "")
	d.SetTextColor(192, 0, 0)
	d.CellFormat(contentW/3, 5, d.r.Marking, "", 0, "R", false, 0, "")
	d.SetTextColor(0, 0, 0)
}

func (d *pdfDoc) cover() {
	d.SetFont(fontName, "", 20)
	d.CellFormat(contentW, 12, d.r.Title, "", 1, "L", false, 0, "")
	d.SetFont(fontName, "", 10)
	d.CellFormat(contentW, 6, fmt.Sprintf("対象期間 %s 〜 %s（日本時間）　前月比較 %s", d.r.From.Format("2006年1月2日"), d.r.To.AddDate(0, 0, -1).Format("2006年1月2日"), d.r.PrevMonth), "", 1, "L", false, 0, "")
	d.CellFormat(contentW, 6, "提出先 情報セキュリティ委員会　根拠 情報セキュリティ基本方針 6(7)(9)、7", "", 1, "L", false, 0, "")
	d.Ln(2)
}

// heading starts a section, on a new page when little room is left.
func (d *pdfDoc) heading(s string) {
	if d.GetY() > pageH-70 {
		d.AddPage()
	}
	d.Ln(3)
	d.SetFont(fontName, "", 13)
	d.SetFillColor(230, 236, 245)
	d.CellFormat(contentW, 8, s, "", 1, "L", true, 0, "")
	d.Ln(1.5)
	d.SetFont(fontName, "", 9)
}

func (d *pdfDoc) subheading(s string) {
	if d.GetY() > pageH-50 {
		d.AddPage()
	}
	d.Ln(1)
	d.SetFont(fontName, "", 10)
	d.SetTextColor(30, 60, 110)
	d.CellFormat(contentW, 6, s, "", 1, "L", false, 0, "")
	d.SetTextColor(0, 0, 0)
	d.SetFont(fontName, "", 9)
}

// chartHeading keeps a chart's heading on the chart's page.
func (d *pdfDoc) chartHeading(s string, h float64) {
	if d.GetY()+h+8 > pageH-margin-8 {
		d.AddPage()
	}
	d.subheading(s)
}

func (d *pdfDoc) para(s string) {
	d.SetFont(fontName, "", 9)
	for _, l := range d.wrap(s, contentW) {
		d.CellFormat(contentW, 5, l, "", 1, "L", false, 0, "")
	}
	d.Ln(1)
}

// noLineStart are characters that Japanese typesetting keeps off the start of a line (禁則).
const noLineStart = "。、，．・）」』】〕！？ー々)]},.:;!?%"

// wrap splits s into lines of at most w millimetres, moving a closing mark that would begin a line to
// the end of the line before.
func (d *pdfDoc) wrap(s string, w float64) []string {
	lines := d.SplitText(s, w)
	for i := 1; i < len(lines); i++ {
		r := []rune(lines[i])
		if len(r) > 0 && strings.ContainsRune(noLineStart, r[0]) {
			lines[i-1] += string(r[0])
			lines[i] = string(r[1:])
		}
	}
	out := lines[:0]
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

// table draws t with its header repeated after a page break; cells wrap within their column.
func (d *pdfDoc) table(t Table) {
	d.subheading(t.Title)
	const size, lineH = 7.5, 3.8
	d.SetFont(fontName, "", size)
	var sum float64
	for _, w := range t.Widths {
		sum += w
	}
	widths := make([]float64, len(t.Header))
	for i := range widths {
		wt := 1.0
		if i < len(t.Widths) {
			wt = t.Widths[i]
		}
		if sum == 0 {
			sum = float64(len(widths))
		}
		widths[i] = contentW * wt / sum
	}
	row := func(cells []string, header bool) {
		lines := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			lines[i] = d.wrap(c, widths[i]-1.6)
			n = max(n, len(lines[i]))
		}
		h := float64(n)*lineH + 1.6
		if d.GetY()+h > pageH-margin-8 {
			d.AddPage()
			if !header {
				d.headerRow(t.Header, widths, lineH)
			}
		}
		x, y := d.GetX(), d.GetY()
		for i := range cells {
			if header {
				d.SetFillColor(221, 228, 238)
				d.Rect(x, y, widths[i], h, "FD")
			} else {
				d.Rect(x, y, widths[i], h, "D")
			}
			align := "L"
			if !header && isNumber(t.Rows, i) {
				align = "R"
			}
			for j, l := range lines[i] {
				d.SetXY(x+0.8, y+0.8+float64(j)*lineH)
				d.CellFormat(widths[i]-1.6, lineH, l, "", 0, align, false, 0, "")
			}
			x += widths[i]
		}
		d.SetXY(margin, y+h)
	}
	d.SetDrawColor(170, 170, 170)
	d.SetLineWidth(0.2)
	row(t.Header, true)
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = Cell(v, true)
		}
		row(cells, false)
	}
	if len(t.Rows) == 0 {
		d.CellFormat(contentW, 5, "（該当なし）", "1", 1, "C", false, 0, "")
	}
	d.Ln(2)
	d.SetFont(fontName, "", 9)
}

func (d *pdfDoc) headerRow(h []string, widths []float64, lineH float64) {
	x, y := d.GetX(), d.GetY()
	hh := lineH + 1.6
	for i, c := range h {
		lines := d.wrap(c, widths[i]-1.6)
		hh = max(hh, float64(len(lines))*lineH+1.6)
	}
	for i, c := range h {
		d.SetFillColor(221, 228, 238)
		d.Rect(x, y, widths[i], hh, "FD")
		for j, l := range d.wrap(c, widths[i]-1.6) {
			d.SetXY(x+0.8, y+0.8+float64(j)*lineH)
			d.CellFormat(widths[i]-1.6, lineH, l, "", 0, "L", false, 0, "")
		}
		x += widths[i]
	}
	d.SetXY(margin, y+hh)
}

// isNumber reports whether column i holds numbers.
func isNumber(rows [][]any, i int) bool {
	for _, r := range rows {
		if i < len(r) {
			switch r[i].(type) {
			case string:
				return false
			}
		}
	}
	return true
}

func (d *pdfDoc) section1(t map[string]Table) {
	r := d.r
	d.heading("1. 概要")
	for _, s := range keyPoints(r) {
		d.para("・" + s)
	}
	d.table(t["01_summary"])
	d.subheading("監視範囲")
	d.para(fmt.Sprintf("対象のログ送信元 %d のうち %d から受信した（* は監視対象として登録された送信元）。無受信時間は当月 %d 時間のうち受信のなかった時間で、夜間に記録のない機器では大きくなる。時刻差は各時間の最新の事象時刻と受信時刻の差のうち最大のもの（正は機器の時計が進んでいる）。",
		r.Summary.SourcesExpected, r.Summary.SourcesReporting, r.Summary.HoursInMonth))
	d.table(t["01_coverage"])
}

func (d *pdfDoc) section2(t map[string]Table) {
	d.heading("2. ゾーン別の状況")
	for _, z := range d.r.Zones {
		d.para(fmt.Sprintf("%s（%s）: %s。事象 %s 件（前月 %s 件）、アラート %d 件。", z.NameJa, z.PolicyItem, z.PolicyText, grouped(fmt.Sprint(z.Events)), grouped(fmt.Sprint(z.PrevEvents)), z.AlertTotal))
	}
	d.table(t["02_zones"])
	d.chartHeading("日別の事象数（送信元ゾーン別）", 75)
	d.barChart()
}

func (d *pdfDoc) section3(t map[string]Table) {
	d.heading("3. ゾーン間通信の試行")
	var mn, split, bypass uint64
	for _, c := range d.r.CrossZone {
		switch c.PolicyItem {
		case "ア":
			mn += c.Events
		case "イ":
			split += c.Events
		case "ウ":
			bypass += c.Events
		}
	}
	d.para(fmt.Sprintf("方針上禁止された通信（目標 0 件）: マイナンバー利用事務系に関わる通信 %d 件、LGWAN接続系とインターネット接続系・外部との無害化を経ない通信 %d 件、セキュリティクラウドを経由しない外部通信 %d 件。ファイアウォールで遮断された試行も含む。承認済みの例外とプロキシ自身の通信は除く。", mn, split, bypass))
	d.table(t["03_cross_zone"])
	d.matrixChart()
}

func (d *pdfDoc) section4(t map[string]Table) {
	o := d.r.OffHours
	d.heading("4. 時間外の利用")
	var off, ev uint64
	for _, g := range o.Groups {
		off += g.OffHours
		ev += g.Events
	}
	d.para(fmt.Sprintf("利用者名のある事象（%s）を、利用者ごとに所属グループの勤務カレンダーで判定した。交替制職員は当務日以外を時間外とする。時間外の事象 %s 件（判定対象 %s 件）、時間外ログインのアラート %d 件。カレンダー未設定の利用者は判定していない。",
		o.Filter, grouped(fmt.Sprint(off)), grouped(fmt.Sprint(ev)), o.Alerts))
	d.table(t["04_calendars"])
	d.table(t["04_off_hours_groups"])
	d.table(t["04_off_hours_classes"])
	d.table(t["04_off_hours_users"])
}

func (d *pdfDoc) section5(t map[string]Table) {
	d.heading("5. 不審な通信")
	d.table(t["05_rules"])
	d.chartHeading("日別の推移（遮断・失敗とアラート）", 65)
	d.lineChart()
	d.table(t["05_sources"])
	d.table(t["05_categories"])
}

// keyPoints are the summary's sentences.
func keyPoints(r *Report) []string {
	s := r.Summary
	out := []string{
		fmt.Sprintf("総事象数 %s 件（前月比 %s）、うち遮断・失敗 %s 件。", grouped(fmt.Sprint(s.Events)), change(s.Events, s.PrevEvents), grouped(fmt.Sprint(s.Denied))),
		fmt.Sprintf("アラート %s 件（前月比 %s）。", grouped(fmt.Sprint(s.Alerts)), change(s.Alerts, s.PrevAlerts)),
		fmt.Sprintf("ログ送信元 %d のうち %d から受信、収集率 %.1f%%。", s.SourcesExpected, s.SourcesReporting, s.CoveragePercent),
	}
	var mn, mnAllowed, split, splitAllowed uint64
	for _, c := range r.CrossZone {
		switch c.PolicyItem {
		case "ア":
			mn, mnAllowed = mn+c.Events, mnAllowed+c.Allowed
		case "イ":
			split, splitAllowed = split+c.Events, splitAllowed+c.Allowed
		}
	}
	out = append(out,
		fmt.Sprintf("マイナンバー利用事務系に関わるゾーン間通信の試行 %d 件（うち通過 %d 件、目標 0）。", mn, mnAllowed),
		fmt.Sprintf("LGWAN接続系の無害化を経ない通信 %d 件（うち通過 %d 件、目標 0）。", split, splitAllowed))
	if n := len(r.Handling); n > 0 {
		h := r.Handling[n-1]
		out = append(out, fmt.Sprintf("アラート %d 件のうち月末時点で解決 %d 件、未解決 %d 件。", h.Opened, h.Resolved, h.StillOpen))
	}
	out = append(out, fmt.Sprintf("委員会での判断を求める事項 %d 件（8. 参照）。", len(r.Decisions)))
	return out
}

func handlingText(r *Report) string {
	if len(r.Handling) == 0 {
		return ""
	}
	h := r.Handling[len(r.Handling)-1]
	return fmt.Sprintf("当月に発生したアラート %d 件のうち、確認済 %d 件、解決済 %d 件、月末時点の未解決 %d 件。確認までの時間は中央値 %.1f 分、最長 %.1f 分。",
		h.Opened, h.Acknowledged, h.Resolved, h.StillOpen, h.MedianAckMin, h.MaxAckMin)
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// axes draws a y axis from 0 to top with 4 grid lines in the box and returns the scale.
func (d *pdfDoc) axes(x, y, w, h, top float64) {
	d.SetFont(fontName, "", 6.5)
	d.SetDrawColor(200, 200, 200)
	d.SetLineWidth(0.1)
	for i := 0; i <= 4; i++ {
		gy := y + h - h*float64(i)/4
		d.Line(x, gy, x+w, gy)
		d.SetXY(x-16, gy-2)
		d.CellFormat(15, 4, grouped(fmt.Sprint(int64(top*float64(i)/4))), "", 0, "R", false, 0, "")
	}
	d.SetDrawColor(90, 90, 90)
	d.SetLineWidth(0.2)
	d.Line(x, y+h, x+w, y+h)
	d.Line(x, y, x, y+h)
}

// dayLabels writes every few days' labels under a chart.
func (d *pdfDoc) dayLabels(x, y, step float64) {
	d.SetFont(fontName, "", 6.5)
	for i, day := range d.r.Daily {
		if i%3 != 0 {
			continue
		}
		d.SetXY(x+step*float64(i), y+1)
		d.CellFormat(step*2, 3, day.Day[8:], "", 0, "L", false, 0, "")
	}
}

func (d *pdfDoc) room(h float64) (x, y float64) {
	if d.GetY()+h > pageH-margin-8 {
		d.AddPage()
	}
	return margin + 18, d.GetY() + 2
}

// barChart: events per day, stacked by the zones.
func (d *pdfDoc) barChart() {
	const h = 55.0
	x, y := d.room(h + 16)
	w := contentW - 20
	var top float64
	for _, day := range d.r.Daily {
		var s uint64
		for _, v := range day.Events {
			s += v
		}
		top = max(top, float64(s))
	}
	top = niceMax(top)
	d.axes(x, y, w, h, top)
	n := float64(max(1, len(d.r.Daily)))
	step := w / n
	for i, day := range d.r.Daily {
		base := y + h
		for _, z := range zoneNames() {
			bh := h * float64(day.Events[z]) / top
			c := zoneColours[z]
			d.SetFillColor(c[0], c[1], c[2])
			d.Rect(x+step*float64(i)+step*0.15, base-bh, step*0.7, bh, "F")
			base -= bh
		}
	}
	d.dayLabels(x, y+h, step)
	d.legend(x, y+h+5, []string{"mynumber", "lgwan", "internet"})
	d.SetXY(margin, y+h+12)
}

func (d *pdfDoc) legend(x, y float64, zones []string) {
	d.SetFont(fontName, "", 7)
	for _, z := range zones {
		c := zoneColours[z]
		d.SetFillColor(c[0], c[1], c[2])
		d.Rect(x, y+0.8, 3, 3, "F")
		d.SetXY(x+4, y)
		name := ZoneJa(z)
		d.CellFormat(d.GetStringWidth(name)+2, 4.5, name, "", 0, "L", false, 0, "")
		x += d.GetStringWidth(name) + 10
	}
}

// lineChart: denied events and alerts per day.
func (d *pdfDoc) lineChart() {
	const h = 45.0
	x, y := d.room(h + 16)
	w := contentW - 20
	var top float64
	for _, day := range d.r.Daily {
		top = max(top, float64(day.Denied), float64(day.Alerts))
	}
	top = niceMax(top)
	d.axes(x, y, w, h, top)
	step := w / float64(max(1, len(d.r.Daily)))
	series := []struct {
		name string
		rgb  [3]int
		v    func(DayZones) uint64
	}{
		{"遮断・失敗", [3]int{192, 57, 43}, func(z DayZones) uint64 { return z.Denied }},
		{"アラート", [3]int{41, 128, 185}, func(z DayZones) uint64 { return z.Alerts }},
	}
	lx := x
	for _, s := range series {
		d.SetDrawColor(s.rgb[0], s.rgb[1], s.rgb[2])
		d.SetLineWidth(0.5)
		for i := 1; i < len(d.r.Daily); i++ {
			x0 := x + step*(float64(i)-0.5)
			x1 := x + step*(float64(i)+0.5)
			d.Line(x0, y+h-h*float64(s.v(d.r.Daily[i-1]))/top, x1, y+h-h*float64(s.v(d.r.Daily[i]))/top)
		}
		d.Line(lx, y+h+7, lx+5, y+h+7)
		d.SetXY(lx+6, y+h+5)
		d.SetFont(fontName, "", 7)
		d.CellFormat(20, 4.5, s.name, "", 0, "L", false, 0, "")
		lx += 30
	}
	d.SetLineWidth(0.2)
	d.dayLabels(x, y+h, step)
	d.SetXY(margin, y+h+12)
}

// matrixChart: the zone-pair matrix as a shaded grid, forbidden pairs framed in red.
func (d *pdfDoc) matrixChart() {
	zones := d.r.MatrixZone
	n := len(zones)
	if n == 0 {
		d.para("（事象なし）")
		return
	}
	label := 32.0
	cell := min(17.0, (contentW-label)/float64(n))
	if d.GetY()+cell*float64(n)+24 > pageH-margin-8 {
		d.AddPage()
	}
	d.subheading("ゾーン間の通信（行: 送信元、列: 宛先。赤枠は方針上禁止の組合せ。中継記録を除く）")
	x0, y0 := margin+label, d.GetY()+2
	d.SetFont(fontName, "", 6)
	var top float64
	for _, c := range d.r.Matrix {
		top = max(top, float64(c.Events))
	}
	for j, z := range zones {
		d.SetXY(x0+cell*float64(j), y0)
		d.CellFormat(cell, 4, shortZone(z), "", 0, "C", false, 0, "")
	}
	y0 += 5
	for i, src := range zones {
		d.SetXY(margin, y0+cell*float64(i)+cell/2-2)
		d.CellFormat(label-1, 4, shortZone(src)+" →", "", 0, "R", false, 0, "")
		for j, dst := range zones {
			var c ZoneCell
			for _, m := range d.r.Matrix {
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
			d.SetFillColor(g, g+int(20*shade), 255)
			d.SetDrawColor(200, 200, 200)
			d.SetLineWidth(0.2)
			cx, cy := x0+cell*float64(j), y0+cell*float64(i)
			d.Rect(cx, cy, cell, cell, "FD")
			if forbidden {
				d.SetDrawColor(200, 0, 0)
				d.SetLineWidth(0.6)
				d.Rect(cx+0.4, cy+0.4, cell-0.8, cell-0.8, "D")
			}
			d.SetXY(cx, cy+cell/2-2)
			if forbidden && c.Events > 0 {
				d.SetTextColor(200, 0, 0)
			}
			d.CellFormat(cell, 4, compact(c.Events), "", 0, "C", false, 0, "")
			d.SetTextColor(0, 0, 0)
		}
	}
	d.SetLineWidth(0.2)
	d.SetXY(margin, y0+cell*float64(n)+3)
}

func shortZone(z string) string {
	switch z {
	case "mynumber":
		return "マイナンバー"
	case "lgwan":
		return "LGWAN"
	case "internet":
		return "インターネット"
	case "external":
		return "外部"
	case "lgwan-wan":
		return "LGWAN網"
	case "":
		return "なし"
	case "unknown":
		return "不明"
	}
	return z
}

// compact writes a count in at most about five characters.
func compact(n uint64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 100_000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return grouped(fmt.Sprint(n))
}
