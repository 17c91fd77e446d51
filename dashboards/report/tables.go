package report

import (
	"fmt"
	"strings"
)

// Table is one table of the report, shared by every renderer: a CSV file, an XLSX sheet, a table in
// the PDF and the HTML. Cells are strings or numbers (uint64, int, int64, float64).
type Table struct {
	ID      string   // file and sheet name: 01_summary
	Section int      // the report's section (1–8; 9 for the appendix)
	Title   string   // Japanese
	Header  []string // Japanese
	Rows    [][]any
	// Widths are the relative column widths in the PDF.
	Widths []float64
}

// ZoneJa names a zone in Japanese (other names are returned as they are).
func ZoneJa(z string) string {
	for _, s := range Zones {
		if s.Zone == z {
			return s.NameJa
		}
	}
	switch z {
	case "external":
		return "外部（インターネット）"
	case "lgwan-wan":
		return "LGWAN網"
	case "":
		return "なし"
	case "unknown":
		return "不明"
	}
	return z
}

func change(cur, prev uint64) string {
	d := int64(cur) - int64(prev)
	if prev == 0 {
		if cur == 0 {
			return "±0"
		}
		return fmt.Sprintf("+%d", d)
	}
	return fmt.Sprintf("%+d (%+.1f%%)", d, 100*float64(d)/float64(prev))
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// Tables returns the report's tables in the report's order.
func (r *Report) Tables() []Table {
	s := r.Summary
	t := []Table{{
		ID: "01_summary", Section: 1, Title: "概要（当月と前月）", Header: []string{"項目", "当月", "前月", "増減"},
		Widths: []float64{4, 2, 2, 3},
		Rows: [][]any{
			{"総事象数", s.Events, s.PrevEvents, change(s.Events, s.PrevEvents)},
			{"遮断・失敗（ファイアウォール拒否、プロキシ遮断、認証失敗）", s.Denied, s.PrevDenied, change(s.Denied, s.PrevDenied)},
			{"アラート", s.Alerts, s.PrevAlerts, change(s.Alerts, s.PrevAlerts)},
			{"ログ送信元（受信あり／対象）", fmt.Sprintf("%d／%d", s.SourcesReporting, s.SourcesExpected), "", ""},
			{"無受信時間（送信元×時間の合計）", s.SilentHours, "", ""},
			{"収集率（受信のあった送信元×時間の割合, %）", s.CoveragePercent, "", ""},
		},
	}}
	cov := Table{ID: "01_coverage", Section: 1, Title: "ログ送信元ごとの収集状況（受信時刻の1時間単位）",
		Header: []string{"送信元", "種別", "受信経路", "当月件数", "前月件数", "受信時間数", "無受信時間", "最長途絶(h)", "解析不能", "時刻差(秒)"},
		Widths: []float64{2.4, 1.5, 1.6, 1.5, 1.5, 1.3, 1.3, 1.3, 1.2, 1.5}}
	for _, c := range r.Coverage {
		host := c.Host
		if host == "" {
			host = "（ファイル）"
		}
		if c.Expected {
			host += " *"
		}
		cov.Rows = append(cov.Rows, []any{host, c.Type, c.Listener, c.Events, c.PrevEvents, c.HoursReporting, c.SilentHours, c.LongestGap, c.Unparsed, c.MaxSkewSeconds})
	}
	t = append(t, cov)
	zt := Table{ID: "02_zones", Section: 2, Title: "ゾーン別の事象とアラート",
		Header: []string{"ゾーン", "方針", "事象数", "前月", "遮断・失敗", "緊急", "高", "中", "低", "情報", "アラート計"},
		Widths: []float64{3, 1.5, 1.6, 1.6, 1.5, 1, 1, 1, 1, 1, 1.4}}
	for _, z := range r.Zones {
		zt.Rows = append(zt.Rows, []any{z.NameJa, z.PolicyItem, z.Events, z.PrevEvents, z.Denied,
			z.Alerts["critical"], z.Alerts["high"], z.Alerts["medium"], z.Alerts["low"], z.Alerts["info"], z.AlertTotal})
	}
	t = append(t, zt)
	dt := Table{ID: "02_daily", Section: 2, Title: "日別の事象数（送信元ゾーン別）、遮断・失敗、アラート",
		Header: []string{"日付", "マイナンバー", "LGWAN", "インターネット", "遮断・失敗", "アラート"}, Widths: []float64{2, 2, 2, 2, 2, 2}}
	for _, d := range r.Daily {
		dt.Rows = append(dt.Rows, []any{d.Day, d.Events["mynumber"], d.Events["lgwan"], d.Events["internet"], d.Denied, d.Alerts})
	}
	t = append(t, dt)
	mt := Table{ID: "03_zone_pairs", Section: 3, Title: "ゾーン間の通信（プロキシ・無害化装置の中継記録を除く）",
		Header: []string{"送信元ゾーン", "宛先ゾーン", "事象数", "遮断・失敗", "方針上禁止"}, Widths: []float64{3, 3, 2, 2, 1.5}}
	for _, c := range r.Matrix {
		mt.Rows = append(mt.Rows, []any{shortZone(c.Source), shortZone(c.Destination), c.Events, c.Denied, yesNo(c.Forbidden, "禁止", "")})
	}
	cz := Table{ID: "03_cross_zone", Section: 3, Title: "禁止されたゾーン間の通信（試行を含む）",
		Header: []string{"送信元ゾーン", "宛先ゾーン", "方針", "件数", "遮断", "通過", "送信元数", "主な送信元", "前月", "判定"},
		Widths: []float64{2, 2, 0.9, 1.1, 1.1, 1.1, 1.2, 4.6, 1.1, 1.6}}
	for _, c := range r.CrossZone {
		var top []string
		for _, k := range c.TopSources {
			top = append(top, fmt.Sprintf("%s (%d)", k.Key, k.Count))
		}
		verdict := "なし"
		switch {
		case c.Allowed > 0:
			verdict = "通過あり"
		case c.Events > 0:
			verdict = "全件遮断"
		}
		cz.Rows = append(cz.Rows, []any{shortZone(c.Source), shortZone(c.Destination), c.PolicyItem, c.Events, c.Denied, c.Allowed, c.Sources, strings.Join(top, ", "), c.PrevEvents, verdict})
	}
	t = append(t, cz, mt)
	t = append(t, r.offHoursTables()...)
	t = append(t, r.suspiciousTables()...)
	ht := Table{ID: "06_handling", Section: 6, Title: "アラート対応状況（月末時点）",
		Header: []string{"重要度", "発生", "確認済", "解決済", "未解決", "確認までの時間 中央値(分)", "最長(分)"}, Widths: []float64{1.5, 1.2, 1.2, 1.2, 1.2, 2.5, 1.5}}
	for _, h := range r.Handling {
		ht.Rows = append(ht.Rows, []any{SeverityJa(h.Severity), h.Opened, h.Acknowledged, h.Resolved, h.StillOpen, h.MedianAckMin, h.MaxAckMin})
	}
	it := Table{ID: "07_incidents", Section: 7, Title: "主なインシデント（重要度の高いアラート）",
		Header: []string{"検知日時", "重要度", "ルール", "状態", "概要"}, Widths: []float64{2, 1, 1.5, 1.2, 9}}
	for _, in := range r.Incidents {
		it.Rows = append(it.Rows, []any{in.FirstSeen.Format("2006-01-02 15:04"), SeverityJa(in.Severity), in.Rule, StatusJa(in.Status), in.Description})
	}
	dec := Table{ID: "08_decisions", Section: 8, Title: "委員会での判断を求める事項", Header: []string{"区分", "対象", "内容"}, Widths: []float64{2, 3, 10}}
	for _, d := range r.Decisions {
		dec.Rows = append(dec.Rows, []any{DecisionKindJa(d.Kind), d.Ref, d.Text})
	}
	qt := Table{ID: "09_queries", Section: 9, Title: "数値の再現に用いたフィルタ（zonewatch query）", Header: []string{"ID", "内容", "フィルタ", "集計", "期間"},
		Widths: []float64{1.6, 3, 7, 2, 1.2}}
	for _, q := range r.Queries {
		qt.Rows = append(qt.Rows, []any{q.ID, q.What, q.Filter, q.GroupBy, q.Range})
	}
	return append(t, ht, it, dec, qt)
}

// DecisionKindJa names a decision's kind.
func DecisionKindJa(k string) string {
	switch k {
	case "noisy_rule":
		return "発報過多のルール"
	case "silent_source":
		return "途絶した送信元"
	case "exception":
		return "例外の利用"
	}
	return k
}

func (r *Report) offHoursTables() []Table {
	o := r.OffHours
	ct := Table{ID: "04_calendars", Section: 4, Title: "時間外を定めたカレンダー", Header: []string{"カレンダー", "種別", "勤務時間", "利用者数"}, Widths: []float64{2, 1.5, 8, 1.5}}
	for _, c := range o.Calendars {
		ct.Rows = append(ct.Rows, []any{c.Name, c.Kind, c.Hours, c.Users})
	}
	group := func(id, title, first string, gs []OffHoursGroup) Table {
		tb := Table{ID: id, Section: 4, Title: title, Header: []string{first, "カレンダー", "利用者数", "事象数", "時間外の事象", "時間外に利用した人数"},
			Widths: []float64{3, 2, 1.5, 1.5, 2, 2.5}}
		for _, g := range gs {
			tb.Rows = append(tb.Rows, []any{g.Name, g.Calendar, g.Users, g.Events, g.OffHours, g.OffHoursUsers})
		}
		return tb
	}
	groups := append(append([]OffHoursGroup{}, o.Groups...), o.Unmapped)
	ut := Table{ID: "04_off_hours_users", Section: 4, Title: "時間外の利用が多い利用者（上位10）", Header: []string{"利用者", "グループ", "事象数", "時間外の事象"}, Widths: []float64{3, 3, 2, 2}}
	for _, u := range o.TopUsers {
		ut.Rows = append(ut.Rows, []any{u.User, u.Group, u.Events, u.OffHours})
	}
	return []Table{ct, group("04_off_hours_groups", "グループ別の時間外利用", "グループ", groups), group("04_off_hours_classes", "利用者区分別の時間外利用", "区分", o.Classes), ut}
}

func (r *Report) suspiciousTables() []Table {
	s := r.Suspicious
	rt := Table{ID: "05_rules", Section: 5, Title: "ルール別のアラート件数", Header: []string{"ルール", "名称", "重要度", "当月", "前月", "増減"}, Widths: []float64{1.5, 7, 1, 1.2, 1.2, 2.5}}
	for _, x := range s.TopRules {
		rt.Rows = append(rt.Rows, []any{x.Rule, x.Title, SeverityJa(x.Severity), x.Alerts, x.PrevAlert, change(x.Alerts, x.PrevAlert)})
	}
	st := Table{ID: "05_sources", Section: 5, Title: "遮断・失敗の多い送信元（上位10）", Header: []string{"送信元アドレス", "ゾーン", "遮断・失敗"}, Widths: []float64{3, 3, 2}}
	for _, x := range s.TopSources {
		st.Rows = append(st.Rows, []any{x.Address, shortZone(x.Zone), x.Denied})
	}
	ct := Table{ID: "05_categories", Section: 5, Title: "プロキシのカテゴリ別（上位15）", Header: []string{"カテゴリ", "要求数", "遮断"}, Widths: []float64{3, 2, 2}}
	for _, x := range s.Categories {
		ct.Rows = append(ct.Rows, []any{x.Category, x.Events, x.Blocked})
	}
	return []Table{rt, st, ct}
}

// Cell formats a cell for text: numbers with digit grouping off (CSV) or on (human).
func Cell(v any, group bool) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprintf("%.1f", x)
	case uint64:
		if group {
			return grouped(fmt.Sprint(x))
		}
		return fmt.Sprint(x)
	case int, int64:
		if group {
			return grouped(fmt.Sprint(x))
		}
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

func grouped(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
