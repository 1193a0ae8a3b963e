// One element (format EW, MW, SPECIAL) as an exact two's complement fixed-point term of FW bits,
// counted in units of the format's smallest subnormal 2^(EMIN-MW), plus its special-value flags.
// A NaN or Inf contributes a zero term: the flags carry it to the final rounding instead.
// FW must hold the largest finite magnitude and a sign bit (FW >= MW + MAXEF + 1); a Kulisch sum of up
// to M terms needs clog2(M + 1) more bits.  (acc_kulisch_seq writes the same conversion inline: its
// long verified runs are recorded against its unchanged sources.)
module kulisch_term #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0,
    parameter integer FW = MW + ((SPECIAL == 0) ? (1 << EW) - 2 : (1 << EW) - 1) + 1
) (
    input  wire [EW+MW:0] x,
    output wire [FW-1:0]  term,
    output wire           nan,
    output wire           pinf,
    output wire           ninf
);
  // OVF does not matter here; 0 (saturate) is legal with every SPECIAL
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(0)) u_chk ();
  localparam integer MAXEF = (SPECIAL == 0) ? (1 << EW) - 2 : (1 << EW) - 1;
  generate
    if (FW < MW + MAXEF + 1 || FW > 4096) begin : g_bad_fw
      ILLEGAL_PARAMETER_FW_must_be_MW_plus_MAXEF_plus_1_to_4096 u_err ();
    end
  endgenerate

  wire sgn = x[EW+MW];
  wire [EW-1:0] ef = x[EW+MW-1:MW];
  wire [MW-1:0] mf = x[MW-1:0];
  wire top = &ef;
  wire is_nan = (SPECIAL == 0) ? (top & |mf) : (SPECIAL == 1) ? (top & &mf) : 1'b0;
  wire is_inf = (SPECIAL == 0) ? (top & ~|mf) : 1'b0;
  // a subnormal (ef = 0) has the same unit as ef = 1, without the hidden bit
  wire [EW-1:0] sh = (ef == {EW{1'b0}}) ? {EW{1'b0}} : ef - 1'b1;
  wire [FW-1:0] sig = {{(FW - MW - 1) {1'b0}}, |ef, mf};
  wire [FW-1:0] mag = (is_nan | is_inf) ? {FW{1'b0}} : (sig << sh);
  assign term = sgn ? (~mag + 1'b1) : mag;
  assign nan = is_nan;
  assign pinf = is_inf & ~sgn;
  assign ninf = is_inf & sgn;
endmodule
