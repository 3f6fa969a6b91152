#include "textflag.h"

// AVX-512F kernels behind vec.go. Each processes 16 float32 lanes per step and finishes the last
// len mod 16 elements with a lane mask, so no element outside the slices is read or written.
// Callers pass slices of equal length (checked in vec.go).

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL subleaf+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET

// Constants of the float32 exponential, one float32 each (bit patterns):
// clamp bounds −104 and 89, log₂e, −ln2 split as hi + lo (Cody–Waite), 1/7! … 1/3!, 1/2, 1.
DATA expConst<>+0(SB)/4, $0xc2d00000
DATA expConst<>+4(SB)/4, $0x42b20000
DATA expConst<>+8(SB)/4, $0x3fb8aa3b
DATA expConst<>+12(SB)/4, $0xbf318000
DATA expConst<>+16(SB)/4, $0x395e8083
DATA expConst<>+20(SB)/4, $0x39500d01
DATA expConst<>+24(SB)/4, $0x3ab60b61
DATA expConst<>+28(SB)/4, $0x3c088889
DATA expConst<>+32(SB)/4, $0x3d2aaaab
DATA expConst<>+36(SB)/4, $0x3e2aaaab
DATA expConst<>+40(SB)/4, $0x3f000000
DATA expConst<>+44(SB)/4, $0x3f800000
GLOBL expConst<>(SB), RODATA|NOPTR, $48

// LOAD_EXP_CONSTS broadcasts the constants into Z20–Z31 (Z31 = 1).
#define LOAD_EXP_CONSTS \
	VBROADCASTSS expConst<>+0(SB), Z20 \
	VBROADCASTSS expConst<>+4(SB), Z21 \
	VBROADCASTSS expConst<>+8(SB), Z22 \
	VBROADCASTSS expConst<>+12(SB), Z23 \
	VBROADCASTSS expConst<>+16(SB), Z24 \
	VBROADCASTSS expConst<>+20(SB), Z25 \
	VBROADCASTSS expConst<>+24(SB), Z26 \
	VBROADCASTSS expConst<>+28(SB), Z27 \
	VBROADCASTSS expConst<>+32(SB), Z28 \
	VBROADCASTSS expConst<>+36(SB), Z29 \
	VBROADCASTSS expConst<>+40(SB), Z30 \
	VBROADCASTSS expConst<>+44(SB), Z31

// EXP replaces every lane of X by e^X, using N and P as scratch. x is clamped to [−104, 89] (NaN
// passes through the clamps), n = round(x·log₂e), r = x − n·ln2 with |r| ≤ ln2/2, e^r from its
// degree-7 Taylor polynomial (truncation error below 6e-9) and the result r·2ⁿ by VSCALEFPS, which
// rounds to 0 below the smallest denormal and to +Inf above the largest float32.
#define EXP(X, N, P) \
	VMAXPS X, Z20, X \
	VMINPS X, Z21, X \
	VMULPS Z22, X, N \
	VRNDSCALEPS $0, N, N \
	VFMADD231PS Z23, N, X \
	VFMADD231PS Z24, N, X \
	VMOVAPS Z25, P \
	VFMADD213PS Z26, X, P \
	VFMADD213PS Z27, X, P \
	VFMADD213PS Z28, X, P \
	VFMADD213PS Z29, X, P \
	VFMADD213PS Z30, X, P \
	VFMADD213PS Z31, X, P \
	VFMADD213PS Z31, X, P \
	VSCALEFPS N, P, X

// TAIL_MASK sets K1 to the low CX bits (0 < CX < 16), using AX.
#define TAIL_MASK \
	MOVL $1, AX \
	SHLL CX, AX \
	DECL AX \
	KMOVW AX, K1

// ADD_F64 widens the 16 float32 lanes of X to float64 and adds them to Z3 (low 8) and Z4 (high 8),
// using T as scratch.
#define ADD_F64(X, Y, T, YT) \
	VCVTPS2PD Y, T \
	VADDPD T, Z3, Z3 \
	VEXTRACTF64X4 $1, X, YT \
	VCVTPS2PD YT, T \
	VADDPD T, Z4, Z4

// func maxAVX512(x []float32) float32
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS (SI), Z0
	VMOVAPS Z0, Z1

max32:
	CMPQ CX, $32
	JL   max16
	VMAXPS (SI), Z0, Z0
	VMAXPS 64(SI), Z1, Z1
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  max32

max16:
	CMPQ CX, $16
	JL   maxtail
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX

maxtail:
	TESTQ CX, CX
	JZ    maxreduce
	TAIL_MASK
	VMAXPS (SI), Z0, K1, Z0

maxreduce:
	VMAXPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expSumAVX512(dst, x []float32, shift float32) float64
TEXT ·expSumAVX512(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS shift+48(FP), Z19
	LOAD_EXP_CONSTS
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4

expsum16:
	CMPQ CX, $16
	JL   expsumtail
	VMOVUPS (SI), Z0
	VSUBPS Z19, Z0, Z0
	EXP(Z0, Z1, Z2)
	VMOVUPS Z0, (DI)
	ADD_F64(Z0, Y0, Z1, Y1)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  expsum16

expsumtail:
	TESTQ CX, CX
	JZ    expsumreduce
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z19, Z0, Z0
	EXP(Z0, Z1, Z2)
	VMOVUPS.Z Z0, K1, Z0
	VMOVUPS Z0, K1, (DI)
	ADD_F64(Z0, Y0, Z1, Y1)

expsumreduce:
	VADDPD Z4, Z3, Z3
	VEXTRACTF64X4 $1, Z3, Y1
	VADDPD Y1, Y3, Y3
	VEXTRACTF128 $1, Y3, X1
	VADDPD X1, X3, X3
	VPERMILPD $1, X3, X1
	VADDSD X1, X3, X3
	VMOVSD X3, ret+56(FP)
	VZEROUPPER
	RET

// func scaleAVX512(x []float32, k float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS k+24(FP), Z19

scale16:
	CMPQ CX, $16
	JL   scaletail
	VMULPS (SI), Z19, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  scale16

scaletail:
	TESTQ CX, CX
	JZ    scaledone
	TAIL_MASK
	VMULPS.Z (SI), Z19, K1, Z0
	VMOVUPS Z0, K1, (SI)

scaledone:
	VZEROUPPER
	RET

// func axpyAVX512(y, x []float32, a float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-52
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS a+48(FP), Z19

axpy16:
	CMPQ CX, $16
	JL   axpytail
	VMOVUPS (DI), Z0
	VFMADD231PS (SI), Z19, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  axpy16

axpytail:
	TESTQ CX, CX
	JZ    axpydone
	TAIL_MASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VFMADD231PS Z1, Z19, Z0
	VMOVUPS Z0, K1, (DI)

axpydone:
	VZEROUPPER
	RET

// func addAVX512(out, a, b []float32)
TEXT ·addAVX512(SB), NOSPLIT, $0-72
	MOVQ out_base+0(FP), DI
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), BX
	MOVQ out_len+8(FP), CX

add16:
	CMPQ CX, $16
	JL   addtail
	VMOVUPS (SI), Z0
	VADDPS (BX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  add16

addtail:
	TESTQ CX, CX
	JZ    adddone
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

adddone:
	VZEROUPPER
	RET

// func swigluAVX512(out, gate, up []float32)
// out = gate·up / (1 + e^−gate).
TEXT ·swigluAVX512(SB), NOSPLIT, $0-72
	MOVQ out_base+0(FP), DI
	MOVQ gate_base+24(FP), SI
	MOVQ up_base+48(FP), BX
	MOVQ out_len+8(FP), CX
	LOAD_EXP_CONSTS
	VXORPS Z18, Z18, Z18

swiglu16:
	CMPQ CX, $16
	JL   swiglutail
	VMOVUPS (SI), Z0
	VSUBPS Z0, Z18, Z1
	EXP(Z1, Z2, Z3)
	VADDPS Z31, Z1, Z1
	VMULPS (BX), Z0, Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  swiglu16

swiglutail:
	TESTQ CX, CX
	JZ    swiglunone
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z4
	VSUBPS Z0, Z18, Z1
	EXP(Z1, Z2, Z3)
	VADDPS Z31, Z1, Z1
	VMULPS Z4, Z0, Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

swiglunone:
	VZEROUPPER
	RET

// SWIGLU_BACKWARD_BODY computes, for g = Z0, dout = Z5, up = Z6 and 1 = Z31: Z7 += dout·s·g and
// Z8 += dout·s·up·(1 + g·(1−s)). It clobbers Z1–Z3.
#define SWIGLU_BACKWARD_BODY \
	VSUBPS Z0, Z18, Z1 \
	EXP(Z1, Z2, Z3) \
	VADDPS Z31, Z1, Z2 \
	VDIVPS Z2, Z31, Z2 \
	VMULPS Z2, Z1, Z1 \
	VMINPS Z31, Z1, Z1 \
	VFMADD213PS Z31, Z0, Z1 \
	VMULPS Z5, Z2, Z2 \
	VFMADD231PS Z0, Z2, Z7 \
	VMULPS Z6, Z2, Z2 \
	VFMADD231PS Z1, Z2, Z8

// func swigluBackwardAVX512(dgate, dup, dout, gate, up []float32)
// With s = 1/(1+e^−g) and 1−s = min(e^−g·s, 1) (accurate where s rounds to 1; the min turns
// ∞·0 into 1 for very negative g): dup += dout·s·g and dgate += dout·s·up·(1 + g·(1−s)).
TEXT ·swigluBackwardAVX512(SB), NOSPLIT, $0-120
	MOVQ dgate_base+0(FP), DI
	MOVQ dup_base+24(FP), R8
	MOVQ dout_base+48(FP), DX
	MOVQ gate_base+72(FP), SI
	MOVQ up_base+96(FP), BX
	MOVQ dgate_len+8(FP), CX
	LOAD_EXP_CONSTS
	VXORPS Z18, Z18, Z18

swiglub16:
	CMPQ CX, $16
	JL   swiglubtail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z5
	VMOVUPS (BX), Z6
	VMOVUPS (R8), Z7
	VMOVUPS (DI), Z8
	SWIGLU_BACKWARD_BODY
	VMOVUPS Z7, (R8)
	VMOVUPS Z8, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, R8
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  swiglub16

swiglubtail:
	TESTQ CX, CX
	JZ    swiglubdone
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z5
	VMOVUPS.Z (BX), K1, Z6
	VMOVUPS.Z (R8), K1, Z7
	VMOVUPS.Z (DI), K1, Z8
	SWIGLU_BACKWARD_BODY
	VMOVUPS Z7, K1, (R8)
	VMOVUPS Z8, K1, (DI)

swiglubdone:
	VZEROUPPER
	RET

// WIDEN_FMA_F64 widens the 16 float32 lanes of X and Y (whose low halves are XL and YL) to float64
// and adds their products to Z3 (low 8 lanes) and Z4 (high 8), using XT, YT, A and B as scratch.
#define WIDEN_FMA_F64(X, Y, XL, YL, XT, YT, A, B) \
	VCVTPS2PD XL, A \
	VCVTPS2PD YL, B \
	VFMADD231PD A, B, Z3 \
	VEXTRACTF64X4 $1, X, XT \
	VEXTRACTF64X4 $1, Y, YT \
	VCVTPS2PD XT, A \
	VCVTPS2PD YT, B \
	VFMADD231PD A, B, Z4

// REDUCE_F64 sums Z3 and Z4 into the low float64 of X3, using X1/Y1.
#define REDUCE_F64 \
	VADDPD Z4, Z3, Z3 \
	VEXTRACTF64X4 $1, Z3, Y1 \
	VADDPD Y1, Y3, Y3 \
	VEXTRACTF128 $1, Y3, X1 \
	VADDPD X1, X3, X3 \
	VPERMILPD $1, X3, X1 \
	VADDSD X1, X3, X3

// func dotAVX512(x, y []float32) float64
// Σ x[i]·y[i] with every product and sum in float64.
TEXT ·dotAVX512(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), SI
	MOVQ y_base+24(FP), BX
	MOVQ x_len+8(FP), CX
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4

dot16:
	CMPQ CX, $16
	JL   dottail
	VMOVUPS (SI), Z5
	VMOVUPS (BX), Z6
	WIDEN_FMA_F64(Z5, Z6, Y5, Y6, Y7, Y8, Z1, Z2)
	ADDQ $64, SI
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  dot16

dottail:
	TESTQ CX, CX
	JZ    dotreduce
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z5
	VMOVUPS.Z (BX), K1, Z6
	WIDEN_FMA_F64(Z5, Z6, Y5, Y6, Y7, Y8, Z1, Z2)

dotreduce:
	REDUCE_F64
	VMOVSD X3, ret+48(FP)
	VZEROUPPER
	RET

// func dot3AVX512(x, y, z []float32) float64
// Σ x[i]·y[i]·z[i]: x·y is rounded to float32, then widened; the rest is float64.
TEXT ·dot3AVX512(SB), NOSPLIT, $0-80
	MOVQ x_base+0(FP), SI
	MOVQ y_base+24(FP), BX
	MOVQ z_base+48(FP), DX
	MOVQ x_len+8(FP), CX
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4

dot316:
	CMPQ CX, $16
	JL   dot3tail
	VMOVUPS (SI), Z5
	VMULPS (BX), Z5, Z5
	VMOVUPS (DX), Z6
	WIDEN_FMA_F64(Z5, Z6, Y5, Y6, Y7, Y8, Z1, Z2)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JMP  dot316

dot3tail:
	TESTQ CX, CX
	JZ    dot3reduce
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z5
	VMOVUPS.Z (BX), K1, Z7
	VMULPS Z7, Z5, Z5
	VMOVUPS.Z (DX), K1, Z6
	WIDEN_FMA_F64(Z5, Z6, Y5, Y6, Y7, Y8, Z1, Z2)

dot3reduce:
	REDUCE_F64
	VMOVSD X3, ret+72(FP)
	VZEROUPPER
	RET

// func mulSubAVX512(dp, p []float32, c float32)
// dp[i] = p[i]·(dp[i] − c).
TEXT ·mulSubAVX512(SB), NOSPLIT, $0-52
	MOVQ dp_base+0(FP), DI
	MOVQ p_base+24(FP), SI
	MOVQ dp_len+8(FP), CX
	VBROADCASTSS c+48(FP), Z19

mulsub16:
	CMPQ CX, $16
	JL   mulsubtail
	VMOVUPS (DI), Z0
	VSUBPS Z19, Z0, Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mulsub16

mulsubtail:
	TESTQ CX, CX
	JZ    mulsubdone
	TAIL_MASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VSUBPS Z19, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

mulsubdone:
	VZEROUPPER
	RET

// func sumSquaresAVX512(x []float32) float32
// Σ x[i]² in float32 with 32 interleaved partial sums.
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1

sumsq32:
	CMPQ CX, $32
	JL   sumsq16
	VMOVUPS (SI), Z2
	VFMADD231PS Z2, Z2, Z0
	VMOVUPS 64(SI), Z3
	VFMADD231PS Z3, Z3, Z1
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  sumsq32

sumsq16:
	CMPQ CX, $16
	JL   sumsqtail
	VMOVUPS (SI), Z2
	VFMADD231PS Z2, Z2, Z0
	ADDQ $64, SI
	SUBQ $16, CX

sumsqtail:
	TESTQ CX, CX
	JZ    sumsqreduce
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z2
	VFMADD231PS Z2, Z2, Z1

sumsqreduce:
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDPS X1, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleMulAVX512(out, x, w []float32, r float32)
// out[i] = (x[i]·r)·w[i].
TEXT ·scaleMulAVX512(SB), NOSPLIT, $0-76
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ w_base+48(FP), BX
	MOVQ out_len+8(FP), CX
	VBROADCASTSS r+72(FP), Z19

scalemul16:
	CMPQ CX, $16
	JL   scalemultail
	VMULPS (SI), Z19, Z0
	VMULPS (BX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  scalemul16

scalemultail:
	TESTQ CX, CX
	JZ    scalemuldone
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VMULPS Z19, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

scalemuldone:
	VZEROUPPER
	RET

// func rmsNormBackwardAVX512(dx, g, x, w []float32, r, c float32)
// dx[i] += r·g[i]·w[i] − c·x[i].
TEXT ·rmsNormBackwardAVX512(SB), NOSPLIT, $0-104
	MOVQ dx_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ x_base+48(FP), BX
	MOVQ w_base+72(FP), DX
	MOVQ dx_len+8(FP), CX
	VBROADCASTSS r+96(FP), Z19
	VBROADCASTSS c+100(FP), Z18
	VXORPS Z17, Z17, Z17
	VSUBPS Z18, Z17, Z18

rmsb16:
	CMPQ CX, $16
	JL   rmsbtail
	VMOVUPS (SI), Z0
	VMULPS (DX), Z0, Z0
	VMOVUPS (DI), Z1
	VFMADD231PS Z19, Z0, Z1
	VFMADD231PS (BX), Z18, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  rmsb16

rmsbtail:
	TESTQ CX, CX
	JZ    rmsbdone
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z2
	VMULPS Z2, Z0, Z0
	VMOVUPS.Z (DI), K1, Z1
	VFMADD231PS Z19, Z0, Z1
	VMOVUPS.Z (BX), K1, Z2
	VFMADD231PS Z2, Z18, Z1
	VMOVUPS Z1, K1, (DI)

rmsbdone:
	VZEROUPPER
	RET

// func accMulAVX512(acc []float64, g, x []float32, r float64)
// acc[i] += g[i]·x[i]·r in float64, 8 lanes per step.
TEXT ·accMulAVX512(SB), NOSPLIT, $0-80
	MOVQ acc_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ x_base+48(FP), BX
	MOVQ acc_len+8(FP), CX
	VBROADCASTSD r+72(FP), Z19

accmul8:
	CMPQ CX, $8
	JL   accmultail
	VCVTPS2PD (SI), Z0
	VCVTPS2PD (BX), Z1
	VMULPD Z1, Z0, Z0
	VFMADD213PD (DI), Z19, Z0
	VMOVUPD Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $64, DI
	SUBQ $8, CX
	JMP  accmul8

accmultail:
	TESTQ CX, CX
	JZ    accmuldone
	TAIL_MASK
	VCVTPS2PD.Z (SI), K1, Z0
	VCVTPS2PD.Z (BX), K1, Z1
	VMULPD Z1, Z0, Z0
	VMOVUPD.Z (DI), K1, Z2
	VFMADD213PD Z2, Z19, Z0
	VMOVUPD Z0, K1, (DI)

accmuldone:
	VZEROUPPER
	RET
