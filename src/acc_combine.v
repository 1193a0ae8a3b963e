// Pairwise tree node (golden.accumulate 'pairwise'): feed the right state's components into the left
// state's recurrence as elements, each first rounded into the accumulator format (fp_cvt):
//   naive [s]; kahan [s, -c]; neumaier/twosum/fasttwosum [s, c]; klein [s, cs, ccs].
// Combinational: 1, 2 or 3 acc_step instances in series.
module acc_combine #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = 8, parameter integer CMW = 7, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0
) (
    input  wire [EW+MW:0]    ls,
    input  wire [CEW+CMW:0]  lc1,
    input  wire [CEW+CMW:0]  lc2,
    input  wire [EW+MW:0]    rs,
    // verilator lint_off UNUSEDSIGNAL
    // components a scheme does not keep are unused
    input  wire [CEW+CMW:0]  rc1,
    input  wire [CEW+CMW:0]  rc2,
    // verilator lint_on UNUSEDSIGNAL
    output wire [EW+MW:0]    ns,
    output wire [CEW+CMW:0]  nc1,
    output wire [CEW+CMW:0]  nc2
);
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  localparam integer K = (SCHEME == 0) ? 1 : (SCHEME == 5) ? 3 : 2;  // components fed

  // component k as an accumulator-format element
  wire [AW-1:0] e1, e2;
  wire [CW-1:0] rc1_in = (SCHEME == 1) ? {~rc1[CW-1], rc1[CW-2:0]} : rc1;
  fp_cvt #(.IEW(CEW), .IMW(CMW), .ISPECIAL(CSPECIAL), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_cv1 (
      .a(rc1_in), .y(e1));
  fp_cvt #(.IEW(CEW), .IMW(CMW), .ISPECIAL(CSPECIAL), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_cv2 (
      .a(rc2), .y(e2));

  wire [AW-1:0] xs [0:2];
  assign xs[0] = rs;
  assign xs[1] = e1;
  assign xs[2] = e2;
  wire [AW-1:0] ss [0:3];
  wire [CW-1:0] c1s [0:3];
  wire [CW-1:0] c2s [0:3];
  assign ss[0] = ls;
  assign c1s[0] = lc1;
  assign c2s[0] = lc2;
  genvar k;
  generate
    for (k = 0; k < K; k = k + 1) begin : g_feed
      acc_step #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                 .COVF(COVF), .SCHEME(SCHEME)) u_step (
          .s(ss[k]), .c1(c1s[k]), .c2(c2s[k]), .x(xs[k]), .ns(ss[k+1]), .nc1(c1s[k+1]), .nc2(c2s[k+1]));
    end
    for (k = K; k < 3; k = k + 1) begin : g_idle
      assign ss[k+1] = {AW{1'b0}};
      assign c1s[k+1] = {CW{1'b0}};
      assign c2s[k+1] = {CW{1'b0}};
    end
  endgenerate
  assign ns = ss[K];
  assign nc1 = c1s[K];
  assign nc2 = c2s[K];
endmodule
