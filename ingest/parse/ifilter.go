package parse

// i-FILTER (Digital Arts) access log, as i-FILTER Ver.10 writes it by default: space-delimited, "35
// columns" as the vendor counts them, which are 32 columns here because the bracketed time (2 words) and
// the quoted request line (3 words) are one column each. Example (one line):
//
//	Nov 25 09:15:01 4872 1000/01/ - 203.0.113.9:443 10.30.1.20 10.30.1.20 - tanaka [25/Nov/2026:09:15:01 +0900] 403 0 1207 block 63 87 87/127/151 -1 0 1518 0 soumu - 0 - "GET https://bad.example/sw.js HTTP/1.1" - "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" text%2Fhtml A667FEFF
//
// The layout is configurable (Options.IFilterLayout) because sites customise it; the column names are
// those of layout.go. Fields: @timestamp, source.ip, destination ip/port, user.name, http.status,
// destination.bytes, source.bytes, event.action allow/deny and outcome, url.category (the i-FILTER
// category code), url.original, url.domain, http.method, http.user_agent, network.protocol, category web,
// labels group, result (pass, block …), reason (filter reason code), categories.

// DefaultIFilterLayout returns the built-in i-FILTER Ver.10 access-log layout, one name per column. The
// meaning of columns named unknownNN is not confirmed from the vendor's documentation; they are ignored.
func DefaultIFilterLayout() []string {
	return []string{
		"log_month",      //  1 time the line was written: month "Sep"
		"log_day",        //  2 … day
		"log_clock",      //  3 … HH:MM:SS (the line's year is not logged: @timestamp comes from column 12)
		"pid",            //  4 if_proxy process id
		"version",        //  5 i-FILTER version "1000/01/"
		"upstream_proxy", //  6 upstream proxy address, "-" without one
		"destination",    //  7 server address:port of the request ("-" through an upstream proxy)
		"source_ip",      //  8 address of the device talking to i-FILTER (a downstream proxy or the client)
		"client_ip",      //  9 client address (X-Forwarded-For when enabled)
		"computer",       // 10 client computer name (reverse DNS when enabled)
		"user",           // 11 authenticated user name
		"time",           // 12 [dd/MMM/yyyy:HH:mm:ss +0900] connection start
		"status",         // 13 HTTP status
		"request_bytes",  // 14 bytes received from the client
		"bytes",          // 15 bytes sent to the client
		"action",         // 16 pass / block …
		"reason",         // 17 filter reason code
		"category",       // 18 category code that decided
		"categories",     // 19 all category codes of the URL, "/"-separated
		"unknown20",      // 20
		"unknown21",      // 21
		"elapsed",        // 22 milliseconds (assumed)
		"unknown23",      // 23
		"group",          // 24 i-FILTER group of the user
		"unknown25",      // 25
		"unknown26",      // 26
		"unknown27",      // 27
		"request",        // 28 "METHOD URL HTTP/x"
		"referer",        // 29
		"user_agent",     // 30 User-Agent (URL-encoded)
		"content_type",   // 31 Content-Type (URL-encoded)
		"session",        // 32 hex id
	}
}

// IFilterCompactLayout returns the 11-column subset of the default columns that zonewatch's simulator
// writes (internal/simulate appendIFilter), and that a site may configure to keep its logs small:
//
//	[25/Nov/2026:09:15:01 +0900] 245 10.30.0.30 sato.k 200 5234 812 pass 0101 "GET http://news.example.jp/ HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
func IFilterCompactLayout() []string {
	return []string{"time", "elapsed", "client_ip", "user", "status", "bytes", "request_bytes", "action", "category", "request", "user_agent"}
}

// IFilterSyslogLayout returns the default layout without its first three columns (month, day, clock): the
// shape we expect when i-FILTER sends its access log over syslog and the syslog header carries that time.
// This is an assumption, not a documented vendor format; a site that sees otherwise configures its layout.
func IFilterSyslogLayout() []string { return DefaultIFilterLayout()[3:] }
