// Unpack a code of format (EW, MW, SPECIAL) into flags and a normalised significand.
// value = (-1)^sign * sig * 2^(exp - (SW-1)), sig[SW-1] = 1 for every nonzero finite input
// (subnormals are normalised here, so adders and comparators never see leading zeros).
// Zero: sig = 0, exp = -1024 (below every real exponent, so zeros sort below everything).
// exp is 12-bit two's complement: legal formats need -150..+129 plus adder headroom.
module fp_unpack #(
    parameter integer EW = 8,
    parameter integer MW = 23,
    parameter integer SPECIAL = 0,
    parameter integer SW = MW + 1  // significand width, >= MW + 1 (wider pads zeros at the bottom)
) (
    input  wire [EW+MW:0]   code,
    output wire             nan,
    output wire             inf,
    output wire             zero,
    output wire             sign,
    output wire [11:0]      exp,
    output wire [SW-1:0]    sig
);
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(0)) u_chk ();
  generate
    if (SW < MW + 1) begin : g_bad_sw
      ILLEGAL_PARAMETER_SW_must_be_at_least_MW_plus_1 u_err ();
    end
  endgenerate

  localparam integer BIAS = (1 << (EW - 1)) - 1;
  localparam integer EMIN = 1 - BIAS;
  localparam integer LZW = 5;  // MW <= 23 leading zeros fit in 5 bits

  wire [EW-1:0] ef = code[EW+MW-1:MW];
  wire [MW-1:0] mf = code[MW-1:0];
  wire ef_ones = &ef;
  wire ef_zero = ~|ef;

  assign sign = code[EW+MW];
  assign nan  = (SPECIAL == 0) ? (ef_ones & |mf) : (SPECIAL == 1) ? (ef_ones & &mf) : 1'b0;
  assign inf  = (SPECIAL == 0) ? (ef_ones & ~|mf) : 1'b0;
  assign zero = ef_zero & ~|mf;

  // leading zeros of the subnormal mantissa (loop keeps the last hit scanning upward: no break needed)
  function automatic [LZW-1:0] lzc(input [MW-1:0] v);
    integer i;
    // verilator lint_off UNUSEDSIGNAL
    integer n;  // a count <= 2^LZW - 1; upper bits unused by design
    // verilator lint_on UNUSEDSIGNAL
    begin
      n = MW;
      for (i = 0; i < MW; i = i + 1)
        if (v[i]) n = MW - 1 - i;
      lzc = n[LZW-1:0];
    end
  endfunction

  wire [LZW-1:0] lz = lzc(mf);
  wire [MW:0] sub_sig = {1'b0, mf} << (lz + 1'b1);
  wire [MW:0] nrm_sig = ef_zero ? sub_sig : {1'b1, mf};
  // verilator lint_off UNUSEDSIGNAL
  wire [SW+MW:0] padded = {nrm_sig, {SW{1'b0}}};
  wire [11:0] ef12 = {{(12 - EW) {1'b0}}, ef};
  // lint waiver: 12-bit exponent constants: every legal value fits
  // verilator lint_off WIDTHTRUNC
  localparam signed [11:0] BIAS_X = BIAS;
  localparam signed [11:0] EMIN1_X = EMIN - 1;
  // verilator lint_on WIDTHTRUNC
  wire signed [11:0] e_norm = $signed(ef12) - BIAS_X;
  wire signed [11:0] e_sub = EMIN1_X - $signed({7'd0, lz});

  // verilator lint_on UNUSEDSIGNAL
  assign sig = zero ? {SW{1'b0}} : padded[SW+MW:MW+1];
  assign exp = zero ? -12'sd1024 : (ef_zero ? e_sub : e_norm);
endmodule
