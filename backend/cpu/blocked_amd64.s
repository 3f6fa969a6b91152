#include "textflag.h"

// The AVX-512 micro-kernel of the blocked GEMM (blocked.go): a 12 × 32 tile of c held in Z4–Z27
// (row i in Z(4+2i), Z(5+2i)). Each k step loads 32 values of the packed b̃ strip (Z0, Z1), and for
// every row broadcasts one value of the packed ã strip (alternately Z2, Z3) into two FMAs: 24 FMAs
// to 14 loads, so the two FMA ports set the pace.

// TILE(M) applies M to the tile's twelve register pairs, row by row.
#define TILE(M) M(Z4, Z5); M(Z6, Z7); M(Z8, Z9); M(Z10, Z11); M(Z12, Z13); M(Z14, Z15); M(Z16, Z17); M(Z18, Z19); M(Z20, Z21); M(Z22, Z23); M(Z24, Z25); M(Z26, Z27)

#define ZERO(z0, z1) VPXORD z0, z0, z0; VPXORD z1, z1, z1

// ROW multiplies the strip's value at byte offset off (this k, one row) into that row's pair.
#define ROW(off, bc, z0, z1) VBROADCASTSS off(AX), bc; VFMADD231PS Z0, bc, z0; VFMADD231PS Z1, bc, z1

// STORE writes a row scaled by alpha (Z28) to (DI); ADDSTORE adds it. Both step DI to the next row.
#define STORE(z0, z1) VMULPS Z28, z0, z0; VMULPS Z28, z1, z1; VMOVUPS z0, (DI); VMOVUPS z1, 64(DI); ADDQ R8, DI
#define ADDSTORE(z0, z1) VFMADD213PS (DI), Z28, z0; VFMADD213PS 64(DI), Z28, z1; VMOVUPS z0, (DI); VMOVUPS z1, 64(DI); ADDQ R8, DI

// func kernel12x32AVX512(kc int, a, b, c *float32, ldc int, alpha float32, load bool)
TEXT ·kernel12x32AVX512(SB), NOSPLIT, $0-45
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	// Bring the tile's rows of c into L1 while the products run.
	MOVQ DI, R9
	MOVQ $12, R10
prefetch:
	PREFETCHT0 (R9)
	PREFETCHT0 64(R9)
	ADDQ R8, R9
	DECQ R10
	JNZ prefetch

	TILE(ZERO)

loop:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	ROW(0, Z2, Z4, Z5)
	ROW(4, Z3, Z6, Z7)
	ROW(8, Z2, Z8, Z9)
	ROW(12, Z3, Z10, Z11)
	ROW(16, Z2, Z12, Z13)
	ROW(20, Z3, Z14, Z15)
	ROW(24, Z2, Z16, Z17)
	ROW(28, Z3, Z18, Z19)
	ROW(32, Z2, Z20, Z21)
	ROW(36, Z3, Z22, Z23)
	ROW(40, Z2, Z24, Z25)
	ROW(44, Z3, Z26, Z27)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ loop

	VBROADCASTSS alpha+40(FP), Z28
	MOVBLZX load+44(FP), R9
	TESTQ R9, R9
	JNZ accumulate
	TILE(STORE)
	VZEROUPPER
	RET

accumulate:
	TILE(ADDSTORE)
	VZEROUPPER
	RET
