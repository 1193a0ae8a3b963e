// The scheme's result from its state (golden.accumulate.finalize), combinational:
//   naive, kahan: s;  neumaier, twosum, fasttwosum: A(s + c);  klein: A(s + C(cs + ccs)).
module acc_final #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = 8, parameter integer CMW = 7, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0
) (
    input  wire [EW+MW:0]    s,
    // verilator lint_off UNUSEDSIGNAL
    // c1/c2 are unused by naive/kahan (and c2 by all but klein)
    input  wire [CEW+CMW:0]  c1,
    input  wire [CEW+CMW:0]  c2,
    // verilator lint_on UNUSEDSIGNAL
    output wire [EW+MW:0]    y
);
  generate
    if (SCHEME == 0 || SCHEME == 1) begin : g_s
      assign y = s;
    end else if (SCHEME >= 2 && SCHEME <= 4) begin : g_sc
      fp_add_mix #(.AEW(EW), .AMW(MW), .ASPECIAL(SPECIAL), .BEW(CEW), .BMW(CMW), .BSPECIAL(CSPECIAL),
                   .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .LATENCY(0)) u_f (
          .clk(1'b0), .rst_n(1'b1), .a(s), .b(c1), .y(y));
    end else if (SCHEME == 5) begin : g_klein
      wire [CEW+CMW:0] w;
      fp_add_mix #(.AEW(CEW), .AMW(CMW), .ASPECIAL(CSPECIAL), .BEW(CEW), .BMW(CMW), .BSPECIAL(CSPECIAL),
                   .EW(CEW), .MW(CMW), .SPECIAL(CSPECIAL), .OVF(COVF), .LATENCY(0)) u_w (
          .clk(1'b0), .rst_n(1'b1), .a(c1), .b(c2), .y(w));
      fp_add_mix #(.AEW(EW), .AMW(MW), .ASPECIAL(SPECIAL), .BEW(CEW), .BMW(CMW), .BSPECIAL(CSPECIAL),
                   .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .LATENCY(0)) u_f (
          .clk(1'b0), .rst_n(1'b1), .a(s), .b(w), .y(y));
    end else begin : g_bad_scheme
      ILLEGAL_PARAMETER_SCHEME_must_be_0_to_5 u_err ();
    end
  endgenerate
endmodule
