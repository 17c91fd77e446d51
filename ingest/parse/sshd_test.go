package parse

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestSSHD(t *testing.T) {
	auth := func(action, outcome, user, src string, port uint16, labels map[string]string) event.Event {
		e := event.Event{
			Meta:    event.Meta{Module: "sshd", Category: "authentication", Action: action, Outcome: outcome},
			User:    event.User{Name: user},
			Network: event.Network{Transport: "tcp", Protocol: "ssh"},
			Labels:  labels,
		}
		if src != "" {
			e.Source = event.Endpoint{IP: ip(src), Port: port}
		}
		return e
	}
	runParse(t, []parseCase{
		{name: "accepted password", app: "sshd", body: "Accepted password for tanaka from 10.20.1.5 port 51234 ssh2", format: "sshd",
			want: auth("logged-in", "success", "tanaka", "10.20.1.5", 51234, map[string]string{"method": "password"})},
		{name: "accepted publickey with key info", app: "sshd-session", body: "Accepted publickey for adm.sato from 10.20.0.101 port 52314 ssh2: ED25519 SHA256:Zk3abc", format: "sshd",
			want: auth("logged-in", "success", "adm.sato", "10.20.0.101", 52314, map[string]string{"method": "publickey"})},
		{name: "failed password", app: "sshd", body: "Failed password for tanaka from 10.20.1.5 port 51234 ssh2", format: "sshd",
			want: auth("login-failed", "failure", "tanaka", "10.20.1.5", 51234, map[string]string{"method": "password"})},
		{name: "failed password for invalid user", app: "sshd", body: "Failed password for invalid user admin from 10.30.1.9 port 4444 ssh2", format: "sshd",
			want: auth("login-failed", "failure", "admin", "10.30.1.9", 4444, map[string]string{"method": "password", "invalid_user": "true"})},
		{name: "failed, user name with spaces and from in it", app: "sshd", body: "Failed password for invalid user a from b from 10.30.1.9 port 4444 ssh2", format: "sshd",
			want: auth("login-failed", "failure", "a from b", "10.30.1.9", 4444, map[string]string{"method": "password", "invalid_user": "true"})},
		{name: "invalid user", app: "sshd", body: "Invalid user admin from 10.30.1.9 port 4444", format: "sshd",
			want: auth("invalid-user", "failure", "admin", "10.30.1.9", 4444, map[string]string{"invalid_user": "true"})},
		{name: "invalid empty user, IPv6, no port", app: "sshd", body: "Invalid user  from 2001:db8::9", format: "sshd",
			want: auth("invalid-user", "failure", "", "2001:db8::9", 0, map[string]string{"invalid_user": "true"})},
		{name: "pam auth failure", app: "sshd", body: "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.30.1.9  user=root", format: "sshd",
			want: auth("pam-auth-failure", "failure", "root", "10.30.1.9", 0, map[string]string{"method": "pam"})},
		{name: "pam auth failure without user", app: "sshd", body: "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.30.1.9", format: "sshd",
			want: auth("pam-auth-failure", "failure", "", "10.30.1.9", 0, map[string]string{"method": "pam"})},
		{name: "pam session opened", app: "sshd", body: "pam_unix(sshd:session): session opened for user adm.sato(uid=1001) by (uid=0)", format: "sshd",
			want: auth("session-opened", "success", "adm.sato", "", 0, map[string]string{"method": "pam"})},
		{name: "max attempts", app: "sshd", body: "error: maximum authentication attempts exceeded for invalid user admin from 10.30.1.9 port 5555 ssh2 [preauth]", format: "sshd",
			want: auth("max-attempts-exceeded", "failure", "admin", "10.30.1.9", 5555, map[string]string{"invalid_user": "true"})},
		{name: "connection closed by authenticating user", app: "sshd", body: "Connection closed by authenticating user root 10.30.1.9 port 5555 [preauth]", format: "sshd",
			want: auth("disconnected", "failure", "root", "10.30.1.9", 5555, nil)},
		{name: "connection closed by address", app: "sshd", body: "Connection closed by 10.30.1.9 port 5555 [preauth]", format: "sshd",
			want: auth("disconnected", "failure", "", "10.30.1.9", 5555, nil)},
		{name: "disconnected from user", app: "sshd", body: "Disconnected from user tanaka 10.20.1.5 port 51234", format: "sshd",
			want: auth("disconnected", "success", "tanaka", "10.20.1.5", 51234, nil)},
		{name: "disconnected from invalid user", app: "sshd", body: "Disconnected from invalid user admin 10.30.1.9 port 4444 [preauth]", format: "sshd",
			want: auth("disconnected", "failure", "admin", "10.30.1.9", 4444, map[string]string{"invalid_user": "true"})},
		{name: "received disconnect", app: "sshd", body: "Received disconnect from 10.30.1.9 port 5555:11: Bye Bye [preauth]", format: "sshd",
			want: auth("disconnected", "failure", "", "10.30.1.9", 5555, nil)},
		{name: "disconnecting: too many failures", app: "sshd", body: "Disconnecting invalid user admin 10.30.1.9 port 4444: Too many authentication failures [preauth]", format: "sshd",
			want: auth("max-attempts-exceeded", "failure", "admin", "10.30.1.9", 4444, map[string]string{"invalid_user": "true"})},
		{name: "disconnecting: other reason", app: "sshd", body: "Disconnecting authenticating user root 10.30.1.9 port 5555: Change of username or service not allowed: (root,ssh-connection) -> (admin,ssh-connection) [preauth]", format: "sshd",
			want: auth("disconnected", "failure", "root", "10.30.1.9", 5555, nil)},
		{name: "bad address", app: "sshd", body: "Accepted password for tanaka from 10.20.1.500 port 51234 ssh2", format: "sshd", errField: "from"},
		{name: "bad port", app: "sshd", body: "Failed password for tanaka from 10.20.1.5 port 5x ssh2", format: "sshd", errField: "port"},
		{name: "other sshd message", app: "sshd", body: "Server listening on 0.0.0.0 port 22.", format: "syslog", errField: "-"},
	})
}
