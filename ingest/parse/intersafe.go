package parse

// InterSafe WebFilter (ALSI) access log: space-delimited, date YYYY/MM/DD and time in the proxy's zone,
// protocol, client address, group, account, transfer state (Proxied, Blocked, Allowed, BlkPost, Release),
// HTTP status, host, sizes, MIME type, reason and category "main\sub". Japanese text arrives as UTF-8.
// Example:
//
//	2026/11/25 09:15:01 HTTP 10.30.1.20 総務課 tanaka Blocked 403 www.bad.example 0 512 text/html カテゴリ規制 不正サイト\マルウェア
//
// The layout is configurable (Options.InterSafeLayout); the vendor's full 18-column layout, with its
// spare "-" columns and transfer time, is InterSafeVendorLayout. Fields: @timestamp, network.protocol,
// source.ip, user.name, event.action allow/deny and outcome, http.status, url.domain, source.bytes,
// destination.bytes, url.category, category web, labels group, result (the state as logged), reason.

// DefaultInterSafeLayout returns the built-in InterSafe layout: the 14 columns of the example above.
func DefaultInterSafeLayout() []string {
	return []string{
		"date",          //  1 YYYY/MM/DD
		"clock",         //  2 HH:MM:SS
		"protocol",      //  3 HTTP / HTTPS
		"client_ip",     //  4 client address
		"group",         //  5 group, sub-groups separated by "\"
		"user",          //  6 account
		"action",        //  7 transfer state: Proxied, Blocked, Allowed, BlkPost, Release
		"status",        //  8 HTTP status
		"host",          //  9 server host name
		"request_bytes", // 10 bytes sent by the client
		"bytes",         // 11 bytes received
		"content_type",  // 12 MIME type
		"reason",        // 13 why the filter decided (カテゴリ規制 …)
		"category",      // 14 category "main\sub" (several joined by ",")
	}
}

// InterSafeVendorLayout returns the 18-column layout of InterSafe's own documentation, with its spare
// columns (logged as "-") and the transfer time.
func InterSafeVendorLayout() []string {
	return []string{"date", "clock", "protocol", "client_ip", "group", "user", "-", "action", "-", "status",
		"host", "elapsed", "request_bytes", "bytes", "content_type", "-", "reason", "category"}
}
