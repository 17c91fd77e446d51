package parse

import (
	"strings"

	"github.com/zonewatch/zonewatch/internal/event"
)

// sshd actions. A brute-force attempt typically logs a PAM failure, then "Failed password", then a
// preauth disconnect: each gets its own action so that counting login-failed counts each attempt once.
const (
	actLoggedIn     = "logged-in"
	actLoginFailed  = "login-failed"
	actInvalidUser  = "invalid-user"
	actPAMFailure   = "pam-auth-failure"
	actMaxAttempts  = "max-attempts-exceeded"
	actDisconnected = "disconnected"
	actSessionOpen  = "session-opened"
	actSessionClose = "session-closed"
)

// OpenSSH sshd (and sshd-session, OpenSSH ≥ 9.8) authentication messages and sshd's PAM failures. The
// reporting host is the destination; its address is left for the caller to fill from the observer.
// Examples:
//
//	Accepted password for tanaka from 10.20.1.5 port 51234 ssh2
//	Accepted publickey for tanaka from 10.20.1.5 port 51234 ssh2: ED25519 SHA256:abc
//	Failed password for invalid user admin from 10.30.1.9 port 4444 ssh2
//	Invalid user admin from 10.30.1.9 port 4444
//	pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.30.1.9  user=root
//	error: maximum authentication attempts exceeded for root from 10.30.1.9 port 5555 ssh2 [preauth]
//	Connection closed by authenticating user root 10.30.1.9 port 5555 [preauth]
//	Disconnected from user tanaka 10.20.1.5 port 51234
//	Received disconnect from 10.30.1.9 port 5555:11: Bye Bye [preauth]
//	Disconnecting invalid user admin 10.30.1.9 port 4444: Too many authentication failures [preauth]
//	pam_unix(sshd:session): session opened for user adm.sato by (uid=0)
//
// Fields: category authentication, action (logged-in, login-failed, invalid-user, pam-auth-failure,
// max-attempts-exceeded, disconnected, session-opened, session-closed), outcome, user.name, source ip
// and port, network.protocol ssh, network.transport tcp, labels method (password, publickey, pam …) and
// invalid_user.
func parseSSHD(body string, e *event.Event, maxLabels int) (bool, error) {
	s := strings.TrimPrefix(body, "error: ")
	preauth := strings.HasSuffix(s, " [preauth]")
	s = strings.TrimSuffix(s, " [preauth]")
	var act, outcome, user, ip, port, method string
	invalid := false
	switch {
	case strings.HasPrefix(s, "Accepted "), strings.HasPrefix(s, "Failed "):
		// "<Accepted|Failed> <method> for [invalid user ]<user> from <ip> port <port> ssh2[: key info]"
		verb, rest := nextWord(s)
		m, rest := nextWord(rest)
		if !strings.HasPrefix(rest, "for ") {
			return false, nil
		}
		method = m
		var ok bool
		user, ip, port, ok = userFromIPPort(rest[len("for "):])
		if !ok {
			return false, nil
		}
		if u, found := strings.CutPrefix(user, "invalid user "); found {
			user, invalid = u, true
		}
		if verb == "Accepted" {
			act, outcome = actLoggedIn, event.OutcomeSuccess
		} else {
			act, outcome = actLoginFailed, event.OutcomeFailure
		}
	case strings.HasPrefix(s, "Invalid user "):
		// "Invalid user <user> from <ip>[ port <port>]"
		var ok bool
		user, ip, port, ok = userFromIPPort(s[len("Invalid user "):])
		if !ok {
			return false, nil
		}
		act, outcome, invalid = actInvalidUser, event.OutcomeFailure, true
	case strings.HasPrefix(s, "maximum authentication attempts exceeded for "):
		var ok bool
		user, ip, port, ok = userFromIPPort(s[len("maximum authentication attempts exceeded for "):])
		if !ok {
			return false, nil
		}
		if u, found := strings.CutPrefix(user, "invalid user "); found {
			user, invalid = u, true
		}
		act, outcome = actMaxAttempts, event.OutcomeFailure
	case strings.HasPrefix(s, "pam_unix(") && strings.Contains(s, "authentication failure;"):
		// "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.30.1.9  user=root"
		_, kv, _ := strings.Cut(s, ";")
		sc := kvScanner{s: kv}
		for {
			k, v, _, _, ok := sc.next()
			if !ok {
				break
			}
			switch k {
			case "rhost":
				ip = v
			case "user":
				user = v
			}
		}
		act, outcome, method = actPAMFailure, event.OutcomeFailure, "pam"
	case strings.HasPrefix(s, "pam_unix(sshd:session): session "):
		// "pam_unix(sshd:session): session opened for user adm.sato(uid=1001) by (uid=0)"
		rest := s[len("pam_unix(sshd:session): session "):]
		switch {
		case strings.HasPrefix(rest, "opened for user "):
			act, rest = actSessionOpen, rest[len("opened for user "):]
		case strings.HasPrefix(rest, "closed for user "):
			act, rest = actSessionClose, rest[len("closed for user "):]
		default:
			return false, nil
		}
		user, _ = nextWord(rest)
		if i := strings.IndexByte(user, '('); i >= 0 {
			user = user[:i]
		}
		outcome, method = event.OutcomeSuccess, "pam"
	case strings.HasPrefix(s, "Connection closed by "), strings.HasPrefix(s, "Disconnected from "), strings.HasPrefix(s, "Connection reset by "):
		// "Connection closed by [authenticating |invalid ]user <user> <ip> port <port>" or "... by <ip> port <port>"
		rest := s[strings.Index(s, " by ")+len(" by "):]
		if strings.HasPrefix(s, "Disconnected from ") {
			rest = s[len("Disconnected from "):]
		}
		kind := "" // "user", "authenticating user", "invalid user"
		for _, k := range [...]string{"authenticating user ", "invalid user ", "user "} {
			if r, found := strings.CutPrefix(rest, k); found {
				kind, rest = k, r
				break
			}
		}
		var ok bool
		user, ip, port, ok = userIPPort(rest, kind != "")
		if !ok {
			return false, nil
		}
		invalid = kind == "invalid user "
		act = actDisconnected
		switch {
		case preauth || kind == "authenticating user " || kind == "invalid user ":
			outcome = event.OutcomeFailure
		case kind == "user ":
			outcome = event.OutcomeSuccess
		default:
			outcome = event.OutcomeUnknown
		}
	case strings.HasPrefix(s, "Disconnecting "):
		// "Disconnecting authenticating user root 10.30.1.9 port 5555: Too many authentication failures"
		rest, reason, _ := strings.Cut(s[len("Disconnecting "):], ": ")
		kind := ""
		for _, k := range [...]string{"authenticating user ", "invalid user ", "user "} {
			if r, found := strings.CutPrefix(rest, k); found {
				kind, rest = k, r
				break
			}
		}
		var ok bool
		user, ip, port, ok = userIPPort(rest, kind != "")
		if !ok {
			return false, nil
		}
		invalid = kind == "invalid user "
		act, outcome = actDisconnected, event.OutcomeFailure
		if strings.HasPrefix(reason, "Too many authentication failures") {
			act = actMaxAttempts
		}
	case strings.HasPrefix(s, "Received disconnect from "):
		// "Received disconnect from <ip> port <port>:11: Bye Bye"
		rest := s[len("Received disconnect from "):]
		ip, rest = nextWord(rest)
		if p, found := strings.CutPrefix(rest, "port "); found {
			port, _, _ = strings.Cut(p, ":")
		}
		act, outcome = actDisconnected, event.OutcomeUnknown
		if preauth {
			outcome = event.OutcomeFailure
		}
	default:
		return false, nil
	}
	const f = FormatSSHD
	e.Meta.Module = f
	e.Meta.Category = "authentication"
	e.Meta.Action, e.Meta.Outcome = act, outcome
	e.Network.Protocol, e.Network.Transport = "ssh", "tcp"
	if user != "" {
		e.User.Name = user
	}
	if method != "" {
		setLabel(e, maxLabels, "method", method)
	}
	if invalid {
		setLabel(e, maxLabels, "invalid_user", "true")
	}
	if ip != "" {
		if err := setIP(&e.Source.IP, f, "from", ip); err != nil {
			return true, err
		}
	}
	if port != "" {
		if err := setPort(&e.Source.Port, f, "port", port); err != nil {
			return true, err
		}
	}
	return true, nil
}

// userFromIPPort splits "<user> from <ip>[ port <port>][ ssh2[: …]]". The user may contain spaces (an
// attacker chooses it), so the split is at the last " from ". An empty user ("Invalid user  from …") is
// allowed.
func userFromIPPort(s string) (user, ip, port string, ok bool) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		if !strings.HasPrefix(s, "from ") {
			return "", "", "", false
		}
		i = -1 // empty user
	} else {
		user = s[:i]
	}
	ip, rest := nextWord(s[i+len(" from "):])
	if p, found := strings.CutPrefix(rest, "port "); found {
		port, _ = nextWord(p)
		port = strings.TrimSuffix(port, ":")
	}
	return user, ip, port, ip != ""
}

// userIPPort splits "[<user> ]<ip> port <port>", the user being present when hasUser.
func userIPPort(s string, hasUser bool) (user, ip, port string, ok bool) {
	i := strings.LastIndex(s, " port ")
	if i < 0 {
		return "", "", "", false
	}
	port, _ = nextWord(s[i+len(" port "):])
	head := s[:i]
	if hasUser {
		j := strings.LastIndexByte(head, ' ')
		if j < 0 {
			return "", "", "", false
		}
		user, ip = head[:j], head[j+1:]
	} else {
		ip = head
	}
	return user, ip, port, ip != ""
}
