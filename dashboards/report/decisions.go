package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/zonewatch/zonewatch/query"
)

// Items for the committee's decision: rules that fire too often, sources that went silent, and the
// approved exceptions that were used.
func (b *builder) decisions(ctx context.Context) error {
	b.r.Decisions = []Decision{}
	for _, rc := range b.r.Suspicious.TopRules {
		if rc.Alerts > b.o.NoisyRule {
			b.r.Decisions = append(b.r.Decisions, Decision{Kind: "noisy_rule", Ref: rc.Rule, Figure: rc.Alerts,
				Text: fmt.Sprintf("ルール %s「%s」が月%d件発報（前月%d件、基準%d件）。閾値・例外・抑制期間の見直しを検討。", rc.Rule, rc.Title, rc.Alerts, rc.PrevAlert, b.o.NoisyRule)})
		}
	}
	for _, c := range b.r.Coverage {
		name := sourceName(c)
		switch {
		case !c.Reporting && (c.Expected || c.PrevEvents > 0):
			b.r.Decisions = append(b.r.Decisions, Decision{Kind: "silent_source", Ref: name, Figure: uint64(c.SilentHours),
				Text: fmt.Sprintf("ログ送信元 %s から当月の受信なし（前月%d件）。機器の状態と送信設定の確認、監視対象からの除外の要否を判断。", name, c.PrevEvents)})
		case c.Reporting && c.LongestGap >= b.o.GapHours && (c.Expected || c.PrevEvents >= uint64(b.prev.hours())):
			// Only a source that normally sends every hour: a server that logs a few sign-ins a
			// month is silent most of the time by nature.
			b.r.Decisions = append(b.r.Decisions, Decision{Kind: "silent_source", Ref: name, Figure: uint64(c.LongestGap),
				Text: fmt.Sprintf("ログ送信元 %s に最長%d時間の途絶（当月の無受信 計%d時間）。原因の確認を。", name, c.LongestGap, c.SilentHours)})
		}
	}
	for _, e := range []struct{ list, field, zone, what string }{
		{b.o.ApprovedLists.Destinations, "destination.ip", "source.zone", "マイナンバー利用事務系からの承認済み通信先"},
		{b.o.ApprovedLists.Sources, "source.ip", "destination.zone", "マイナンバー利用事務系への承認済み接続元"},
	} {
		if e.list == "" {
			continue
		}
		f := fmt.Sprintf(`%s == "mynumber" and in_list(%s, %q)`, e.zone, e.field, e.list)
		res, err := b.aggregate(ctx, b.cur, query.Query{Filter: f, GroupBy: []string{e.field}, Aggs: []query.Agg{{Op: query.Count}}})
		if err != nil {
			return err
		}
		var total uint64
		var used []string
		for _, row := range res.Rows {
			total += u64(row[1])
			used = append(used, fmt.Sprintf("%s %d件", str(row[0]), u64(row[1])))
		}
		b.addQuery("exception_"+e.list, e.what, f, e.field, "month")
		if total == 0 {
			continue
		}
		b.r.Decisions = append(b.r.Decisions, Decision{Kind: "exception", Ref: e.list, Figure: total,
			Text: fmt.Sprintf("例外（%s: %s）の利用 %d件（%s）。承認の継続を確認。", e.list, e.what, total, strings.Join(used, "、"))})
	}
	return nil
}

// sourceName is how the report names a log source: host/type, or listener/type for a file.
func sourceName(c SourceCoverage) string {
	host := c.Host
	if host == "" {
		host = c.Listener
	}
	if c.Type == "" {
		return host
	}
	return host + "/" + c.Type
}
