package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

const notifyGood = `
rules:
  dir: rules/default
  partition: {index: 1, count: 3}
notify:
  receivers:
    - name: soc-hook
      webhook: {url: "https://soc.example.jp/hook", timeout: 5s, retries: 2}
      rate: {per_minute: 6, burst: 10, digest_after: 2m}
    - name: duty-mail
      email: {smtp: "mail.example.jp:587", from: zonewatch@fire.example.jp, to: [duty@fire.example.jp], username: zonewatch}
  routes:
    - match: {min_severity: high}
      receivers: [soc-hook, duty-mail]
    - match: {rules: ["ZW-PH-*"], tags: [T1562.006]}
      receivers: [soc-hook]
`

func TestNotifyAndPartition(t *testing.T) {
	env := map[string]string{"ZONEWATCH_NOTIFY_DUTY_MAIL_PASSWORD": "pw", "ZONEWATCH_NOTIFY_SOC_HOOK_TOKEN": "tok", "ZONEWATCH_NOTIFY_SOC_HOOK_SECRET": "sec"}
	c, err := Load(write(t, notifyGood), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Rules.Partition != (RulesPartition{Index: 1, Count: 3}) {
		t.Errorf("partition %+v", c.Rules.Partition)
	}
	n := c.Notify
	if len(n.Receivers) != 2 || len(n.Routes) != 2 {
		t.Fatalf("notify %+v", n)
	}
	hook, mail := n.Receivers[0], n.Receivers[1]
	if hook.Webhook.BearerToken != "tok" || hook.Webhook.HMACSecret != "sec" || hook.Webhook.Timeout.Duration != 5*time.Second || hook.Rate.DigestAfter.Duration != 2*time.Minute {
		t.Errorf("webhook %+v %+v", hook.Webhook, hook.Rate)
	}
	if mail.Email.Password != "pw" || mail.Email.To[0] != "duty@fire.example.jp" {
		t.Errorf("email %+v", mail.Email)
	}
	if n.Routes[1].Match.Rules[0] != "ZW-PH-*" || n.Routes[0].Receivers[1] != "duty-mail" {
		t.Errorf("routes %+v", n.Routes)
	}
}

func TestNotifyErrors(t *testing.T) {
	hook := "    - name: soc\n      webhook: {url: \"https://soc.example.jp/\"}\n"
	for _, tc := range []struct{ name, body, want string }{
		{"partition index too large", "rules:\n  partition: {index: 2, count: 2}\n", "rules.partition: index 2 of count 2"},
		{"no sender", "notify:\n  receivers:\n    - name: soc\n", "notify.receivers[0]: give exactly one of webhook: or email:"},
		{"two receivers of one name", "notify:\n  receivers:\n" + hook + hook, `notify.receivers[1].name: "soc"`},
		{"bad url", "notify:\n  receivers:\n    - {name: soc, webhook: {url: \"soc.example.jp\"}}\n", `notify.receivers[0].webhook.url: "soc.example.jp" is not an http(s) URL`},
		{"bad timeout", "notify:\n  receivers:\n    - {name: soc, webhook: {url: \"http://h/\", timeout: soon}}\n", "notify.receivers[0].webhook.timeout"},
		{"smtp without port", "notify:\n  receivers:\n    - {name: m, email: {smtp: mail.example.jp, from: a@b.jp, to: [c@d.jp]}}\n", "notify.receivers[0].email.smtp"},
		{"bad recipient", "notify:\n  receivers:\n    - {name: m, email: {smtp: \"h:25\", from: a@b.jp, to: [nobody]}}\n", `notify.receivers[0].email.to[0]: "nobody"`},
		{"bad tls", "notify:\n  receivers:\n    - {name: m, email: {smtp: \"h:25\", from: a@b.jp, to: [c@d.jp], tls: ssl}}\n", `email.tls: "ssl"`},
		{"unknown receiver", "notify:\n  receivers:\n" + hook + "  routes:\n    - {receivers: [mail]}\n", `notify.routes[0].receivers[0]: "mail" is not a receiver`},
		{"bad severity", "notify:\n  receivers:\n" + hook + "  routes:\n    - {match: {min_severity: urgent}, receivers: [soc]}\n", `notify.routes[0].match.min_severity: "urgent"`},
		{"route without receivers", "notify:\n  routes:\n    - {match: {min_severity: high}}\n", "notify.routes[0].receivers: missing"},
		{"unknown key", "notify:\n  receivers:\n    - {name: soc, webhook: {url: \"http://h/\", token: x}}\n", "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.body)
			_, err := Load(p, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v\nwant the file %s and %q", err, p, tc.want)
			}
		})
	}
}

// TestExampleNotifyLoads: the commented notify example of deploy/zonewatch.example.yaml, uncommented, is
// a valid configuration (the documentation cannot drift from the code).
func TestExampleNotifyLoads(t *testing.T) {
	b, err := os.ReadFile("../../deploy/zonewatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	rules := ""
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "notify:":
			in = true
		case in && line != "" && !strings.HasPrefix(line, " "):
			in = false
		case in && strings.HasPrefix(line, "  # "):
			out = append(out, "  "+strings.TrimPrefix(line, "  # "))
		case strings.HasPrefix(line, "  # partition:"):
			rules = "rules:\n  " + strings.TrimPrefix(line, "  # ") + "\n"
		}
	}
	c, err := Load(write(t, rules+"notify:\n"+strings.Join(out, "\n")+"\n"), func(string) string { return "" })
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(out, "\n"))
	}
	if len(c.Notify.Receivers) != 2 || len(c.Notify.Routes) != 3 || c.Rules.Partition != (RulesPartition{Index: 0, Count: 2}) {
		t.Errorf("example notify: %+v, partition %+v", c.Notify, c.Rules.Partition)
	}
}
