package tokenizer

import (
	"math/rand/v2"
	"testing"
	"unicode"
)

func TestNormalizeUnicodeKnownValues(t *testing.T) {
	cases := []struct {
		in   string
		form unicodeForm
		want string
	}{
		{"e\u0301", formNFC, "\u00e9"},
		{"\u00e9", formNFD, "e\u0301"},
		{"A\u030a", formNFC, "\u00c5"},
		{"\u212b", formNFC, "\u00c5"},              // Angstrom sign: singleton decomposition
		{"\u2126", formNFC, "\u03a9"},              // Ohm sign
		{"o\u0301\u0328", formNFC, "\u01eb\u0301"}, // ogonek (ccc 202) sorts before acute (230), then composes
		{"\u1100\u1161\u11a8", formNFC, "\uac01"},  // Hangul L V T
		{"\uac01", formNFD, "\u1100\u1161\u11a8"},
		{"\ufb01", formNFC, "\ufb01"},
		{"\ufb01", formNFKC, "fi"},
		{"x\u00b2", formNFKD, "x2"},
		{"\u1e9b\u0323", formNFC, "\u1e9b\u0323"}, // the UAX #15 example
		{"\u1e9b\u0323", formNFD, "\u017f\u0323\u0307"},
		{"\u1e9b\u0323", formNFKC, "\u1e69"},
		{"\u1e9b\u0323", formNFKD, "s\u0323\u0307"},
		{"\u0958", formNFC, "\u0915\u093c"},     // composition exclusion
		{"e\xff\u0301", formNFC, "e\xff\u0301"}, // invalid byte blocks composition and survives
		{"plain ascii", formNFKC, "plain ascii"},
	}
	for _, c := range cases {
		if got := normalizeUnicode(c.in, c.form); got != c.want {
			t.Errorf("normalize(%+q, %d) = %+q, want %+q", c.in, c.form, got, c.want)
		}
	}
}

func TestNormalizeUnicodeIdentities(t *testing.T) {
	for _, s := range loadTexts(t) {
		nfd := normalizeUnicode(s, formNFD)
		nfc := normalizeUnicode(s, formNFC)
		nfkd := normalizeUnicode(s, formNFKD)
		if got := normalizeUnicode(nfd, formNFC); got != nfc {
			t.Errorf("NFC(NFD(%+q)) = %+q, want NFC = %+q", s, got, nfc)
		}
		if got := normalizeUnicode(nfc, formNFD); got != nfd {
			t.Errorf("NFD(NFC(%+q)) = %+q, want NFD = %+q", s, got, nfd)
		}
		if got := normalizeUnicode(nfkd, formNFC); got != normalizeUnicode(s, formNFKC) {
			t.Errorf("NFC(NFKD(%+q)) = %+q differs from NFKC", s, got)
		}
		for _, f := range []unicodeForm{formNFC, formNFD, formNFKC, formNFKD} {
			once := normalizeUnicode(s, f)
			if twice := normalizeUnicode(once, f); twice != once {
				t.Errorf("form %d not idempotent on %+q: %+q then %+q", f, s, once, twice)
			}
		}
	}
}

// TestUnicodeTablesVersion guards against letter classes (Go's unicode package) and normalization
// tables coming from different Unicode versions: regenerate the tables when Go's version changes.
func TestUnicodeTablesVersion(t *testing.T) {
	if unicodeTablesVersion != unicode.Version {
		t.Errorf("normalization tables are Unicode %s, Go's unicode package is %s: run go generate with a matching Python",
			unicodeTablesVersion, unicode.Version)
	}
}

// TestNormalizeSegmentsMatchWhole checks that normalizing between inert characters gives the same
// result as normalizing the whole string at once, on random mixes of starters, combining marks,
// precomposed letters, compatibility characters and Hangul jamo.
func TestNormalizeSegmentsMatchWhole(t *testing.T) {
	alphabet := []rune("aeoAEOsk \u0301\u0308\u0323\u0328\u0345\u0307\u00e9\u00c5\u1e9b\u212b\ufb01\u00b2" +
		"\u1100\u1161\u11a8\uac00\uac01\u0915\u093c\u0b47\u0b3e\u3099\u304b\U0001d400\u0f73\u0f71")
	rng := rand.New(rand.NewPCG(7, 11))
	tab := unicodeData()
	for trial := 0; trial < 3000; trial++ {
		runes := make([]rune, rng.IntN(12))
		for i := range runes {
			runes[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(runes)
		for _, f := range []unicodeForm{formNFC, formNFD, formNFKC, formNFKD} {
			if got, want := normalizeUnicode(s, f), tab.normalizeValid(s, f); got != want {
				t.Fatalf("form %d of %+q: piecewise %+q, whole %+q", f, s, got, want)
			}
		}
	}
}
