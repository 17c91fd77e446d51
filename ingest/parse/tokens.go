package parse

// splitFields splits a space-delimited log line into dst and returns how many fields it found.
//
// Fields are separated by runs of spaces or tabs. A field that starts with '"' runs to the next '"' that is
// not preceded by a backslash and is followed by a separator or the end of the line; one that starts with
// '[' runs to the next ']' when a separator or the end follows that ']' (else it is a plain field, such as
// "[2001:db8::1]:443"). The quotes and brackets are not part of the field; escapes inside quotes are
// left as they are. When rest is true, the last field of dst takes the rest of the line, as it is, unless
// the rest is one quoted or bracketed field; when rest is false, fields beyond dst are counted but not
// stored, so the caller can tell. ok is false for an unterminated quote or bracket (except in a last
// field that takes the rest of the line).
func splitFields(line string, dst []string, rest bool) (n int, ok bool) {
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return n, true
		}
		last := rest && n == len(dst)-1 && len(dst) > 0
		start := i
		var f string
		switch line[i] {
		case '"':
			j := i + 1
			for {
				if j >= len(line) {
					if last {
						dst[n] = trimRight(line[start:])
						return n + 1, true
					}
					return n, false
				}
				if line[j] == '\\' {
					j += 2
					continue
				}
				if line[j] == '"' && (j+1 == len(line) || line[j+1] == ' ' || line[j+1] == '\t') {
					break
				}
				j++
			}
			f, i = line[i+1:j], j+1
		case '[':
			j := i + 1
			for j < len(line) && line[j] != ']' {
				j++
			}
			if j >= len(line) {
				if last {
					dst[n] = trimRight(line[start:])
					return n + 1, true
				}
				return n, false
			}
			if j+1 == len(line) || line[j+1] == ' ' || line[j+1] == '\t' {
				f, i = line[i+1:j], j+1
				break
			}
			fallthrough // "[2001:db8::1]:443" is a plain field that happens to start with '['
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			f, i = line[i:j], j
		}
		if last {
			// The last column: one field if only spaces follow it, else the rest of the line as it is.
			k := i
			for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
				k++
			}
			if k < len(line) {
				f = trimRight(line[start:])
			}
			dst[n] = f
			return n + 1, true
		}
		if n < len(dst) {
			dst[n] = f
		}
		n++
	}
}

// nextWord returns the first space-delimited word of s and what follows it (leading spaces dropped).
func nextWord(s string) (word, after string) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' {
		j++
	}
	k := j
	for k < len(s) && s[k] == ' ' {
		k++
	}
	return s[i:j], s[k:]
}

// splitPlain splits on runs of spaces and tabs only (Squid's native format quotes nothing), storing at most
// len(dst) fields and returning how many there are.
func splitPlain(line string, dst []string) int {
	n, i := 0, 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return n
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if n < len(dst) {
			dst[n] = line[i:j]
		}
		n++
		i = j
	}
}

// trimRight drops trailing spaces and tabs.
func trimRight(s string) string {
	j := len(s)
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[:j]
}
