package engine

import "strings"

// How an autoscaler's strings name a version's workload (retarget): its Deployment and Service as
// whole names, its version as a word.

// nameByte is a byte a Kubernetes name (and a label value) may contain.
func nameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.'
}

// wholeName reports whether s[i:j] is a whole name: not the middle of a longer name, but it may be
// the first label of a host name (model-svc-green.ns.svc) or the prefix of its pods' names in a
// pattern (model-green-.*, model-green-[a-z0-9]+).
func wholeName(s string, i, j int) bool {
	if i > 0 && nameByte(s[i-1]) {
		return false
	}
	if j == len(s) || !nameByte(s[j]) || s[j] == '.' {
		return true
	}
	if s[j] != '-' {
		return false
	}
	return j+1 == len(s) || !lowerAlnum(s[j+1])
}

// lowerAlnum reports whether b may start the rest of a longer name after a dash.
func lowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// replaceName replaces every whole-name occurrence of from in s by to.
func replaceName(s, from, to string) string {
	if from == "" || from == to {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], from)
		if k < 0 {
			b.WriteString(s[i:])
			break
		}
		at := i + k
		b.WriteString(s[i:at])
		if wholeName(s, at, at+len(from)) {
			b.WriteString(to)
		} else {
			b.WriteString(from)
		}
		i = at + len(from)
	}
	return b.String()
}

// hasName reports whether s contains name as a whole name.
func hasName(s, name string) bool {
	for i := 0; name != "" && i < len(s); {
		k := strings.Index(s[i:], name)
		if k < 0 {
			return false
		}
		if wholeName(s, i+k, i+k+len(name)) {
			return true
		}
		i += k + 1
	}
	return false
}

// mentions reports whether s names w: its Deployment or Service as a whole name, or its version as
// a word (green in model-green2, green-requests, color="green").
func mentions(s string, w workload) bool {
	return hasName(s, w.deployment) || hasName(s, w.service) || wordAt(s, w.version) >= 0
}

// wordAt is the index of the first occurrence of v in s as a word (not next to a letter, digit or
// underscore), or -1.
func wordAt(s, v string) int {
	wordByte := func(b byte) bool { return nameByte(b) && b != '-' && b != '.' }
	for i := 0; v != "" && i < len(s); {
		k := strings.Index(s[i:], v)
		if k < 0 {
			return -1
		}
		at, end := i+k, i+k+len(v)
		if (at == 0 || !wordByte(s[at-1])) && (end == len(s) || !wordByte(s[end])) {
			return at
		}
		i = at + 1
	}
	return -1
}

// token is the name-like run of s around the first place it names w's version, for a problem's
// message (the word alone when that run is long).
func token(s string, w workload) string {
	at := wordAt(s, w.version)
	if at < 0 {
		return w.version
	}
	i, j := at, at+len(w.version)
	for i > 0 && (nameByte(s[i-1]) || s[i-1] == '/' || s[i-1] == ':') {
		i--
	}
	for j < len(s) && (nameByte(s[j]) || s[j] == '/' || s[j] == ':') {
		j++
	}
	if j-i > 80 {
		return w.version
	}
	return s[i:j]
}
