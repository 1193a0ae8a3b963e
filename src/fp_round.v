// Round a sign-magnitude number into format (EW, MW, SPECIAL, OVF): RNE, gradual underflow,
// overflow policy -- the one rounding step shared by fp_add_mix and acc_kulisch_seq.
// value = (-1)^sign * (z + delta) * 2^zexp where 0 <= delta < 1 is known only through `sticky`
// (delta != 0), or through a jammed LSB of z; either needs the result's ulp >= 2 positions above z's LSB,
// which callers guarantee by giving z enough low-order bits.
// nan/inf: special inputs (inf_sign gives Inf's sign); Inf follows the overflow policy like golden's
// rounder: saturate -> +-max, inf -> +-Inf, nan -> NaN.  An exact zero keeps `sign`.
// NaN code: golden.encode(NaN): ieee 0.1..1.10..0, fn 0.1..1.1..1; 'finite' has no NaN: 0.1..1 is
// emitted and unreachable from finite operands.
module fp_round #(
    parameter integer ZW = 32,  // width of z
    parameter integer EW = 8,
    parameter integer MW = 23,
    parameter integer SPECIAL = 0,
    parameter integer OVF = 1,
    // 1: the caller guarantees zexp == EMIN - MW (z's LSB is the format's smallest subnormal) and
    // sticky == 0, as the exact (Kulisch) accumulator does.  A subnormal result is then z itself and
    // nothing below it can be lost, so the denormalising shifter and its lost-bit compare are not built:
    // same function, but synthesis no longer depends on ABC finding that redundancy (it did only for
    // some widths, which made Kulisch LUT counts jump by up to 2x between neighbouring sizes).
    parameter integer SUBEXACT = 0
) (
    input  wire                nan,
    input  wire                inf,
    input  wire                inf_sign,
    input  wire                sign,
    input  wire [ZW-1:0]       z,
    input  wire signed [11:0]  zexp,
    input  wire                sticky,
    output wire [EW+MW:0]      y
);
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_chk ();
  generate
    if (SUBEXACT < 0 || SUBEXACT > 1) begin : g_bad_subexact
      ILLEGAL_PARAMETER_SUBEXACT_must_be_0_or_1 u_err ();
    end
    if (SUBEXACT == 1 && ZW < MW + 1) begin : g_bad_subexact_zw
      ILLEGAL_PARAMETER_ZW_must_be_at_least_MW_plus_1_when_SUBEXACT u_err ();
    end
  endgenerate

  localparam integer BIAS = (1 << (EW - 1)) - 1;
  localparam integer EMIN = 1 - BIAS;
  // internal width: at least hidden bit + MW + round bit + one sticky position
  localparam integer ZI = (ZW > MW + 3) ? ZW : MW + 3;
  localparam integer LZW = $clog2(ZI + 1);
  localparam integer CW = 14 + MW;  // unbounded-exponent code magnitude
  localparam integer MAXEF = (SPECIAL == 0) ? (1 << EW) - 2 : (1 << EW) - 1;
  localparam integer TOPM = (SPECIAL == 1) ? (1 << MW) - 2 : (1 << MW) - 1;
  localparam [CW-1:0] ONE_C = 1;
  // lint waiver: MAXEF < 2^9 and TOPM < 2^23 fit the CW-bit code magnitude
  // verilator lint_off WIDTHTRUNC
  localparam [CW-1:0] MAXFIN = (ONE_C * MAXEF << MW) | (ONE_C * TOPM);
  // verilator lint_on WIDTHTRUNC
  localparam [EW+MW:0] ONE_Y = 1;
  localparam [EW+MW:0] EXPONES = ((ONE_Y << EW) - ONE_Y) << MW;
  localparam [EW+MW:0] NANCODE = (SPECIAL == 0) ? (EXPONES | (ONE_Y << (MW - 1))) : ((ONE_Y << (EW + MW)) - ONE_Y);

  // lint waiver: 12-bit exponent constants: every legal value fits
  // verilator lint_off WIDTHTRUNC
  localparam signed [11:0] PAD_X = ZI - ZW;
  localparam signed [11:0] ZTOP_X = ZI - 1;
  localparam signed [11:0] ZI_X = ZI;
  localparam signed [11:0] EMIN_X = EMIN;
  localparam signed [11:0] BIASM1_X = BIAS - 1;
  // verilator lint_on WIDTHTRUNC

  // pad zeros below z's LSB up to the internal width
  wire [ZI-1:0] zi;
  generate
    if (ZI == ZW) begin : g_nopad
      assign zi = z;
    end else begin : g_pad
      assign zi = {z, {(ZI - ZW) {1'b0}}};
    end
  endgenerate
  wire signed [11:0] zexpi = zexp - PAD_X;

  function automatic [LZW-1:0] lzc(input [ZI-1:0] v);
    integer i;
    // verilator lint_off UNUSEDSIGNAL
    integer n;  // a count <= 2^LZW - 1; upper bits unused by design
    // verilator lint_on UNUSEDSIGNAL
    begin
      n = ZI;
      for (i = 0; i < ZI; i = i + 1)
        if (v[i]) n = ZI - 1 - i;
      lzc = n[LZW-1:0];
    end
  endfunction

  wire [LZW-1:0] lz = lzc(zi);
  wire is_zero = ~|zi;
  wire [ZI-1:0] zn = zi << lz;
  // exponent of the leading one
  wire signed [11:0] e_msb = zexpi + ZTOP_X - $signed({{(12 - LZW) {1'b0}}, lz});
  wire tiny = e_msb < EMIN_X;
  wire [ZI-1:0] zd;
  wire lost;
  generate
    if (SUBEXACT == 1) begin : g_sub_exact
      // tiny <=> z < 2^MW: the subnormal's bits are z's, placed below the (zero) hidden-bit position
      assign zd = tiny ? (zi << (ZW - 1 - MW)) : zn;
      assign lost = 1'b0;
    end else begin : g_sub_shift
      wire signed [11:0] dsh_full = EMIN_X - e_msb;
      // shifting by ZI or more leaves nothing; clamp so the shifter stays ZI wide
      wire [11:0] dsh = tiny ? ((dsh_full > ZI_X) ? ZI_X : dsh_full) : 12'd0;
      assign zd = zn >> dsh;
      assign lost = (zd << dsh) != zn;
    end
  endgenerate
  wire [MW:0] mant = zd[ZI-1:ZI-1-MW];
  wire rbit = zd[ZI-2-MW];
  wire sbit = (|(zd << (MW + 2))) | lost | sticky;
  wire inc = rbit & (sbit | mant[0]);
  wire signed [11:0] e_eff = tiny ? EMIN_X : e_msb;
  // biased exponent minus one; the hidden bit of mant adds the one back (0 for subnormals) and a
  // rounding carry out of the mantissa bumps the exponent field for free
  wire [11:0] efb = e_eff + BIASM1_X;
  wire [CW-1:0] mag = is_zero ? {CW{1'b0}} :
                      ({{(CW - 12) {1'b0}}, efb} << MW) + {{(CW - MW - 1) {1'b0}}, mant} + {{(CW - 1) {1'b0}}, inc};
  wire over = mag > MAXFIN;

  wire [EW+MW:0] ovf_pos = (OVF == 0) ? MAXFIN[EW+MW:0] : (OVF == 1) ? EXPONES : NANCODE;
  wire [EW+MW:0] inf_code = (OVF == 2) ? NANCODE : (ovf_pos | {inf_sign, {(EW + MW) {1'b0}}});
  wire [EW+MW:0] ovf_code = (OVF == 2) ? NANCODE : (ovf_pos | {sign, {(EW + MW) {1'b0}}});

  assign y = nan ? NANCODE : inf ? inf_code : over ? ovf_code : {sign, mag[EW+MW-1:0]};
endmodule
