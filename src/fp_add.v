// y = RNE(a + b) in one format (EW, MW, SPECIAL, OVF), bit-exact with golden.arith.add.
// SPECIAL: 0 ieee, 1 fn, 2 finite; OVF: 0 saturate, 1 inf, 2 nan (legality: fp_param_check).
// Encoding = golden.formats.encode/decode; NaN output = golden.encode(NaN).  Subtraction: flip b's sign.
// LATENCY: output register stages (0 = combinational, clk/rst_n unused); throughput 1 per cycle.
module fp_add #(
    parameter integer EW = 8,
    parameter integer MW = 23,
    parameter integer SPECIAL = 0,
    parameter integer OVF = 1,
    parameter integer LATENCY = 0
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire [EW+MW:0]  a,
    input  wire [EW+MW:0]  b,
    output wire [EW+MW:0]  y
);
  fp_add_mix #(
      .AEW(EW), .AMW(MW), .ASPECIAL(SPECIAL), .BEW(EW), .BMW(MW), .BSPECIAL(SPECIAL),
      .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .LATENCY(LATENCY)
  ) u_add (.clk(clk), .rst_n(rst_n), .a(a), .b(b), .y(y));
endmodule
