#include "textflag.h"

// The AVX-512 micro-kernel of the blocked GEMM (blocked.go): a 12 × 32 tile of c held in Z4–Z27
// (row i in Z(4+2i), Z(5+2i)). Each k step loads 32 values of the packed b̃ panel (Z0, Z1), and for
// every row broadcasts one value of the op(a) strip (alternately Z2, Z3) into two FMAs: 24 FMAs to
// 14 loads, so the two FMA ports set the pace. The strip is read in place: rows 0, 3, 6, 9 through
// AX, R9, R10, R11 (three row strides apart) and the rows after each through one and two strides
// (R12) of index, every pointer stepping by the depth stride (R13) per k.

// TILE(M) applies M to the tile's twelve register pairs, row by row.
#define TILE(M) M(Z4, Z5); M(Z6, Z7); M(Z8, Z9); M(Z10, Z11); M(Z12, Z13); M(Z14, Z15); M(Z16, Z17); M(Z18, Z19); M(Z20, Z21); M(Z22, Z23); M(Z24, Z25); M(Z26, Z27)

#define ZERO(z0, z1) VPXORD z0, z0, z0; VPXORD z1, z1, z1

// ROW multiplies a row's value at this k (at mem) into that row's register pair.
#define ROW(mem, bc, z0, z1) VBROADCASTSS mem, bc; VFMADD231PS Z0, bc, z0; VFMADD231PS Z1, bc, z1

// STORE writes a row scaled by alpha (Z28) to (DI); ADDSTORE adds it. Both step DI to the next row.
#define STORE(z0, z1) VMULPS Z28, z0, z0; VMULPS Z28, z1, z1; VMOVUPS z0, (DI); VMOVUPS z1, 64(DI); ADDQ R8, DI
#define ADDSTORE(z0, z1) VFMADD213PS (DI), Z28, z0; VFMADD213PS 64(DI), Z28, z1; VMOVUPS z0, (DI); VMOVUPS z1, 64(DI); ADDQ R8, DI

// func kernel12x32AVX512(kc int, a *float32, ls, ds int, b, c *float32, ldc int, alpha float32, load bool)
TEXT ·kernel12x32AVX512(SB), NOSPLIT, $0-61
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ ls+16(FP), R12
	SHLQ $2, R12
	MOVQ ds+24(FP), R13
	SHLQ $2, R13
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	LEAQ (R12)(R12*2), R14 // three row strides
	LEAQ (AX)(R14*1), R9
	LEAQ (R9)(R14*1), R10
	LEAQ (R10)(R14*1), R11

	// Bring the tile's rows of c into L1 while the products run.
	MOVQ DI, R14
	MOVQ $12, DX
prefetch:
	PREFETCHT0 (R14)
	PREFETCHT0 64(R14)
	ADDQ R8, R14
	DECQ DX
	JNZ prefetch

	TILE(ZERO)

loop:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	ROW((AX), Z2, Z4, Z5)
	ROW((AX)(R12*1), Z3, Z6, Z7)
	ROW((AX)(R12*2), Z2, Z8, Z9)
	ROW((R9), Z3, Z10, Z11)
	ROW((R9)(R12*1), Z2, Z12, Z13)
	ROW((R9)(R12*2), Z3, Z14, Z15)
	ROW((R10), Z2, Z16, Z17)
	ROW((R10)(R12*1), Z3, Z18, Z19)
	ROW((R10)(R12*2), Z2, Z20, Z21)
	ROW((R11), Z3, Z22, Z23)
	ROW((R11)(R12*1), Z2, Z24, Z25)
	ROW((R11)(R12*2), Z3, Z26, Z27)
	ADDQ R13, AX
	ADDQ R13, R9
	ADDQ R13, R10
	ADDQ R13, R11
	ADDQ $128, BX
	DECQ CX
	JNZ loop

	VBROADCASTSS alpha+56(FP), Z28
	MOVBLZX load+60(FP), R14
	TESTQ R14, R14
	JNZ accumulate
	TILE(STORE)
	VZEROUPPER
	RET

accumulate:
	TILE(ADDSTORE)
	VZEROUPPER
	RET
