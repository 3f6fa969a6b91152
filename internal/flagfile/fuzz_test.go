package flagfile

import (
	"flag"
	"strings"
	"testing"
)

// FuzzApply feeds arbitrary bytes to both parsers and to the flag assignment. Properties: no panic;
// every reported problem names the file; on success exactly one flag is marked
// set per key (but for an empty list given to a repeatable flag, which calls Set no time).
func FuzzApply(f *testing.F) {
	for _, s := range []string{fullYAML, fullJSON, "", "~", "null", "{r: 4}", "r: [1, {a: 2}]\n",
		"a: &x [1]\nb: *x\n<<: *x\n", "{\"r\": 1}\n{}", "- 1\n", "r: 1\n---\nr: 2\n", "r: !!int abc\n",
		"alpha: !!float x\n", "whiten: !!bool maybe\n", "{\"tag\": [[[[[]]]], {\"a\": {}}]}", "\xef\xbb\xbf{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.yaml", "fuzz.json", "fuzz"} {
			fs, _ := newFS(t)
			err := applyData(fs, name, data)
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					if !strings.HasPrefix(line, name+":") {
						t.Fatalf("%s: problem does not name the file: %q", name, line)
					}
				}
				continue
			}
			entries, err := parse(name, data)
			if err != nil {
				t.Fatalf("%s: applied, but parse fails: %v", name, err)
			}
			want := len(entries) // less the empty lists for repeatable flags: no Set call
			for _, e := range entries {
				if e.val.kind == kList && len(e.val.items) == 0 && typeOf(lookup(fs, e.key)) == tOther {
					want--
				}
			}
			n := 0
			fs.Visit(func(*flag.Flag) { n++ })
			if n != want {
				t.Fatalf("%s: %d keys but %d flags set", name, len(entries), n)
			}
		}
	})
}
