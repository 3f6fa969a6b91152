package linalg

import (
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The OpenBLAS and gonum engines must agree: values to rounding and vectors up to sign, which the
// well-separated spectra below make unique.
func TestEnginesAgree(t *testing.T) {
	ob, gn := requireOpenBLAS(t), engine(gonumEngine{})
	sigma := []float64{50, 20, 9, 4, 2, 1, 0.5, 0.25, 0.125, 0.0625}
	for _, shape := range [][2]int{{120, 10}, {10, 120}, {64, 40}} {
		a, _, _ := withSpectrum(t, newRNG(40), shape[0], shape[1], sigma)
		u1, s1, vt1, err1 := svdWith(ob, a)
		u2, s2, vt2, err2 := svdWith(gn, a)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for i := range sigma {
			if math.Abs(s1[i]-s2[i]) > 1e-12*s1[0] {
				t.Errorf("%v: singular value %d: openblas %g, gonum %g", shape, i, s1[i], s2[i])
			}
			if c := absCos(u1.Col(i), u2.Col(i)); c < 1-1e-10 {
				t.Errorf("%v: left vector %d |cos| = %v", shape, i, c)
			}
			if c := absCos(vt1.Row(i), vt2.Row(i)); c < 1-1e-10 {
				t.Errorf("%v: right vector %d |cos| = %v", shape, i, c)
			}
		}
	}

	sym := symmetricRandom(90, 41)
	l1, v1, err1 := symEigWith(ob, sym)
	l2, v2, err2 := symEigWith(gn, sym)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for i := range l1 {
		if math.Abs(l1[i]-l2[i]) > 1e-12*math.Abs(l1[0]) {
			t.Errorf("eigenvalue %d: openblas %g, gonum %g", i, l1[i], l2[i])
		}
		// Gaussian symmetric matrices have simple eigenvalues; vectors are unique up to sign, but
		// their accuracy degrades as 1/gap, so allow for the closest pairs.
		if c := absCos(v1.Col(i), v2.Col(i)); c < 1-1e-8 {
			t.Errorf("eigenvector %d |cos| = %v", i, c)
		}
	}

	// With R's diagonal made positive, the QR of a full-rank matrix is unique. (Narrower matrices
	// run gonum's code on both engines.)
	tall := gaussian(newRNG(42), 300, narrowQR+20)
	q1, r1, err1 := qrWith(ob, tall)
	q2, r2, err2 := qrWith(gn, tall)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if d := maxAbsDiff(q1, q2); d > 1e-12 {
		t.Errorf("Q differs between engines by %g", d)
	}
	if d := maxAbsDiff(r1, r2); d > 1e-11 {
		t.Errorf("R differs between engines by %g", d)
	}
}

// TestForcedFallbackWarnsOnce runs the test binary again with EVA_OPENBLAS=none and checks that
// the package then runs on gonum and warns exactly once.
func TestForcedFallbackWarnsOnce(t *testing.T) {
	if os.Getenv("LINALG_FALLBACK_CHILD") == "1" {
		a := symmetricRandom(4, 50)
		if _, _, _, err := SVD(a); err != nil {
			t.Fatal(err)
		}
		if _, _, err := SymEig(a); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("backend=" + Backend() + "\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestForcedFallbackWarnsOnce$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LINALG_FALLBACK_CHILD=1", "EVA_OPENBLAS=none")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child test failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	if !strings.Contains(string(out), "backend=gonum") {
		t.Errorf("child did not run on gonum; stdout:\n%s", out)
	}
	if n := strings.Count(stderr.String(), "warning"); n != 1 {
		t.Errorf("child printed %d warnings, want 1; stderr:\n%s", n, stderr.String())
	}
}
