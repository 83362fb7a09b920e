package config

import "strings"

// The image reference grammar of github.com/distribution/reference v0.6.0 (what the kubelet and
// containerd parse with) and the digest rules of github.com/opencontainers/go-digest v1.0.0, as
// byte loops. The library compiles a dozen regexps in its package init, which every mlcanary
// process paid at start (≈ 0.9 ms of ≈ 10, #12); the library stays the oracle of
// TestImageReferenceMatchesLibrary and FuzzImageReference, which require the same verdict on every
// input.
//
//	reference        := name [ ":" tag ] [ "@" digest ]
//	name             := [domain '/'] remote-name        (remote-name at most 255 bytes once normalized)
//	domain           := host [':' port-number]
//	host             := domain-name | '[' [a-fA-F0-9:]+ ']'
//	domain-name      := domain-component ['.' domain-component]*
//	domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//	remote-name      := path-component ['/' path-component]*
//	path-component   := [a-z0-9]+ (('.' | '_' | '__' | '-'+) [a-z0-9]+)*
//	tag              := [\w][\w.-]{0,127}
//	digest           := ("sha256" | "sha384" | "sha512") ":" lower-case hex of 64, 96 or 128 digits

const (
	dockerDomain            = "docker.io"
	legacyDockerDomain      = "index.docker.io"
	officialRepoPrefix      = "library/"
	repositoryPathLengthMax = 255
)

// isImageID reports whether s is what reference.ParseAnyReference takes for an image ID rather
// than a name: 64 lower-case hex digits, or a digest on its own (sha256:<hex>).
func isImageID(s string) bool { return isIdentifier(s) || isDigest(s) }

// parseNormalizedNamed is reference.ParseNormalizedNamed's verdict on s: ok when it parses as a
// named reference (after the familiar-name normalization: "model" is docker.io/library/model),
// nameOnly when it has neither tag nor digest.
func parseNormalizedNamed(s string) (nameOnly, ok bool) {
	if isIdentifier(s) {
		return false, false
	}
	domain, remainder := splitDockerDomain(s)
	remote := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		remote = remainder[:i]
	}
	if strings.ToLower(remote) != remote {
		return false, false
	}
	return parseReference(domain + "/" + remainder)
}

// splitDockerDomain is the library's: a first path element is a registry host when it is
// "localhost", contains '.' or ':', or has upper case; else the name is on Docker Hub, under
// library/ when it has a single element.
func splitDockerDomain(name string) (domain, remote string) {
	maybeDomain, maybeRemote, found := strings.Cut(name, "/")
	switch {
	case !found:
		return dockerDomain, officialRepoPrefix + name
	case maybeDomain == "localhost":
		domain, remote = maybeDomain, maybeRemote
	case maybeDomain == legacyDockerDomain:
		domain, remote = dockerDomain, maybeRemote
	case strings.ContainsAny(maybeDomain, ".:"), strings.ToLower(maybeDomain) != maybeDomain:
		domain, remote = maybeDomain, maybeRemote
	default:
		domain, remote = dockerDomain, name
	}
	if domain == dockerDomain && !strings.Contains(remote, "/") {
		remote = officialRepoPrefix + remote
	}
	return domain, remote
}

// parseReference is reference.Parse's verdict: name [":" tag] ["@" digest], the name's path (without
// registry host) at most 255 bytes. A ':' after the name's last '/' can only start the tag (a port is always followed
// by '/'), and '@' appears in no part but the digest's separator.
func parseReference(s string) (nameOnly, ok bool) {
	rest, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest && !isDigest(digest) {
		return false, false
	}
	name, tag, hasTag := rest, "", false
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		name, tag, hasTag = rest[:i], rest[i+1:], true
	}
	if hasTag && !isTag(tag) {
		return false, false
	}
	if path, ok := repositoryPath(name); !ok || len(path) > repositoryPathLengthMax {
		return false, false
	}
	return !hasTag && !hasDigest, true
}

// repositoryPath is the path of name ([domain '/'] remote-name), ok when name is one: the part
// after the first '/' when what precedes it is a registry host, else all of it (the library's
// regexp prefers taking a domain: "foo_bar.com/x" is all path, its host not being one).
func repositoryPath(name string) (path string, ok bool) {
	if domain, remote, found := strings.Cut(name, "/"); found && isDomainAndPort(domain) && isRemoteName(remote) {
		return remote, true
	}
	return name, isRemoteName(name)
}

func isDomainAndPort(s string) bool {
	var port string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 2 || !allBytes(s[1:end], func(c byte) bool { return isHex(c) || c == ':' }) {
			return false
		}
		port = s[end+1:]
	} else {
		host := s
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i:]
		}
		if !isDomainName(host) {
			return false
		}
	}
	return port == "" || port[0] == ':' && len(port) > 1 && allBytes(port[1:], isDigit)
}

// isDomainName: dot-separated components of letters, digits and '-', not starting or ending with '-'.
func isDomainName(s string) bool {
	for _, c := range strings.Split(s, ".") {
		if c == "" || !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) || !allBytes(c, func(b byte) bool { return isAlnum(b) || b == '-' }) {
			return false
		}
	}
	return true
}

func isRemoteName(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !isPathComponent(c) {
			return false
		}
	}
	return true
}

// isPathComponent: runs of [a-z0-9] separated by exactly ".", "_", "__" or one or more "-".
func isPathComponent(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); {
		if isLowerAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isLowerAlnum(s[j]) {
			j++
		}
		switch sep := s[i:j]; {
		case sep == "." || sep == "_" || sep == "__":
		case strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j
	}
	return true
}

func isTag(s string) bool {
	word := func(c byte) bool { return isAlnum(c) || c == '_' }
	return s != "" && len(s) <= 128 && word(s[0]) && allBytes(s, func(c byte) bool { return word(c) || c == '.' || c == '-' })
}

// isDigest is go-digest's Parse: an available algorithm (sha256, sha384, sha512) and its hash in
// lower-case hex at its exact length.
func isDigest(s string) bool {
	algorithm, encoded, found := strings.Cut(s, ":")
	size := 0
	switch algorithm {
	case "sha256":
		size = 64
	case "sha384":
		size = 96
	case "sha512":
		size = 128
	}
	return found && size > 0 && len(encoded) == size && allBytes(encoded, isLowerHex)
}

// isIdentifier: 64 lower-case hex digits, an image ID.
func isIdentifier(s string) bool { return len(s) == 64 && allBytes(s, isLowerHex) }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }
func isLowerHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' }
func isHex(c byte) bool        { return isLowerHex(c) || 'A' <= c && c <= 'F' }
