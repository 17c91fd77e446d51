package parse

import "strings"

// kvScanner walks "key=value key2="quoted value" FLAG" without allocating. Tokens without '=' are
// returned with an empty key and the token as the value (iptables flags such as DF or SYN).
type kvScanner struct {
	s string
	i int
}

// next returns the next pair. quoted says the value was in double quotes (escapes still in it); ok is false
// at the end. A quote that is never closed makes the value run to the end of the line and bad true.
func (sc *kvScanner) next() (key, value string, quoted, bad, ok bool) {
	s := sc.s
	i := sc.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
		i++
	}
	if i >= len(s) {
		sc.i = i
		return "", "", false, false, false
	}
	start := i
	for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	if i >= len(s) || s[i] != '=' {
		sc.i = i
		return "", s[start:i], false, false, true
	}
	key = s[start:i]
	i++ // '='
	if i < len(s) && s[i] == '"' {
		j := i + 1
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(s) {
			sc.i = len(s)
			return key, s[i+1:], true, true, true
		}
		sc.i = j + 1
		return key, s[i+1 : j], true, false, true
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	sc.i = j
	return key, s[i:j], false, false, true
}

// unquote removes backslash escapes from a quoted value; it allocates only when there are some.
func unquote(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// isKey reports whether k looks like a key of a key=value log: letters, digits, '_', '-', '.', ':'.
func isKey(k string) bool {
	if k == "" || len(k) > maxLabelKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// hasKey reports whether key= occurs at the start of s or after a space: a cheap test, before any field is
// written, of whether a key=value body is of a format.
func hasKey(s, key string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], key)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(key)
		if (j == 0 || s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == ',') && end < len(s) && s[end] == '=' {
			return true
		}
		i = j + 1
	}
}
