package datasets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultSeed is the seed that `eva data prepare`, `eva demo` and `eva bench` prepare data with. The
// seed orders each split's lines, and the demo and the bench suites read the first lines of a split,
// so the results in docs/results rest on data prepared with it.
const DefaultSeed = 1

// Ensure makes sure the dataset called name is prepared in dir with DefaultSeed: it prepares it
// when dir holds no NAME.meta.json (saying so on log, which may be nil), and refuses data that eva
// prepared from its sources (the metadata lists them) with another seed, naming the command that
// prepares it again. A task of one's own (metadata without sources) is taken as it is.
func Ensure(dir, name string, log io.Writer) error {
	metaPath := filepath.Join(dir, name+".meta.json")
	if _, err := os.Stat(metaPath); err == nil {
		m, err := ReadMeta(metaPath)
		if err != nil {
			return err
		}
		if len(m.Sources) > 0 && m.Seed != DefaultSeed {
			return fmt.Errorf("%s: prepared with seed %d, but demo and bench runs read data prepared with seed %d "+
				"(run `eva data prepare %s --out %s`, or point --data-dir elsewhere)", metaPath, m.Seed, DefaultSeed, name, dir)
		}
		return nil
	}
	ds, err := Get(name)
	if err != nil {
		return err
	}
	if log != nil {
		fmt.Fprintf(log, "preparing %s into %s\n", name, dir)
	}
	_, err = ds.Prepare(dir, Options{Seed: DefaultSeed})
	return err
}
