// Package rules is zonewatch's detection engine: rule files, their compiler and functions, the evaluator
// with its rule index and windows, rule tests, linting, hot reload and the default rule pack.
//
// A rules directory holds YAML files. Each file may define lists, macros and rules:
//
//	lists:
//	  - name: approved_mynumber_sources
//	    kind: ip                       # ip (addresses and CIDRs), domain, string, map
//	    items: [10.20.0.10, 10.20.8.0/24]
//	    file: lists/approved.txt       # optional: one item a line, so the SOC can edit it
//	macros:
//	  - name: from_mynumber
//	    condition: source.zone == "mynumber"
//	rules:
//	  - id: ZW-CZ-001
//	    title: {ja: マイナンバー系からの通信試行, en: Connection attempt out of the mynumber zone}
//	    severity: critical
//	    tags: [T1041]
//	    condition: from_mynumber and destination.zone != "mynumber"
//	    exceptions:
//	      - name: approved flows
//	        condition: in_list(destination.ip, "approved_mynumber_destinations")
//	    threshold: {more_than: 20, distinct: destination.port, by: [source.ip], within: 1m}
//	    suppress: {for: 10m}
//	    tests:
//	      - name: terminal reaches the internet
//	        event: {source.zone: mynumber, destination.zone: external}
//	        expect: alert
//
// Conditions are expr expressions (https://expr-lang.org) over event.Event with its ECS names
// (source.ip, destination.port, user.name, url.domain, event.action, event.module …), type-checked when
// the rules are loaded. See funcs.go for the functions rule authors may call.
//
// An Engine evaluates events against a RuleSet. Rules are indexed by the equality constraints of their
// condition's top-level "and" (event.module, event.action, source.zone, destination.zone) so that most
// rules never run for a given event.
package rules
