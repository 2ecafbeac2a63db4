package main

import (
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

func TestAptSources(t *testing.T) {
	deb822 := `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`
	got := parseDeb822Sources(deb822)
	want := []aptSource{
		{URI: "http://mirror.example/debian", Suite: "bookworm", SignedBy: "/usr/share/keyrings/debian-archive-keyring.gpg"},
		{URI: "http://mirror.example/debian", Suite: "bookworm-updates", SignedBy: "/usr/share/keyrings/debian-archive-keyring.gpg"},
		{URI: "http://mirror.example/debian-security", Suite: "bookworm-security"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("deb822 (-want +got):\n%s", diff)
	}

	oneLine := "# comment\n" +
		"deb http://mirror.example/debian-security bookworm-security main\n" +
		"deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n" +
		"deb-src http://mirror.example/debian bookworm main\n" +
		"deb [ trusted=yes ] http://other.example/repo ./\n"
	got = parseOneLineSources(oneLine)
	want = []aptSource{
		{URI: "http://mirror.example/debian-security", Suite: "bookworm-security"},
		{URI: "http://mirror.example/debian", Suite: "bookworm", SignedBy: "/k.gpg"},
		{URI: "http://other.example/repo", Suite: "./"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("one-line (-want +got):\n%s", diff)
	}

	s, ok := pickArchive(got)
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(s.URI, "http://mirror.example/debian"))
	_, ok = pickArchive(got[:1])
	qt.Assert(t, qt.IsFalse(ok))
}

func TestPrivateAptEnvRejectsBadSuites(t *testing.T) {
	for _, suite := range []string{"", "../etc", "a b", "x/y"} {
		_, err := privateAptEnv(t.TempDir(), suite)
		qt.Assert(t, qt.ErrorMatches(err, "bad Debian suite .*"), qt.Commentf("%q", suite))
	}
}
