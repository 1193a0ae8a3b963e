// y = RNE(a) converted from format (IEW, IMW, ISPECIAL) into (EW, MW, SPECIAL, OVF).
// Built as a + (-0) in fp_add_mix: adding -0 is the identity for every input including -0
// (+0 + -0 = +0), so this is exactly one rounding; synthesis folds the constant operand.
module fp_cvt #(
    parameter integer IEW = 8, parameter integer IMW = 23, parameter integer ISPECIAL = 0,
    parameter integer EW = 8, parameter integer MW = 23, parameter integer SPECIAL = 0,
    parameter integer OVF = 1
) (
    input  wire [IEW+IMW:0] a,
    output wire [EW+MW:0]   y
);
  localparam [IEW+IMW:0] NEG_ZERO = {1'b1, {(IEW + IMW) {1'b0}}};
  fp_add_mix #(
      .AEW(IEW), .AMW(IMW), .ASPECIAL(ISPECIAL), .BEW(IEW), .BMW(IMW), .BSPECIAL(ISPECIAL),
      .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .LATENCY(0)
  ) u_add (.clk(1'b0), .rst_n(1'b1), .a(a), .b(NEG_ZERO), .y(y));
endmodule
