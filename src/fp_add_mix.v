// y = RNE(a + b) where a, b and y may each have their own format (exact sum, rounded once).
// Used wherever golden's recurrences add an accumulator-format value to a compensation-format one
// (e.g. kahan's C(A(t - s) - y), neumaier's C(c + e), the final A(s + c)).  fp_add is this module with
// all three formats equal.  Subtraction: flip the sign bit of b.
// Datapath: unpack (normalise) both, swap so |big| >= |small|, align small under big with
// G guard bits and a jammed sticky LSB, add/subtract, then fp_round (normalise, RNE, overflow).
// G >= 3 and G >= MW + 4 - SW keeps the jam >= 2 positions below the result ulp whenever bits were
// shifted out (alignment >= 2 cancels at most one leading bit), so the rounding is exact.
// Latency: LATENCY register stages after the rounding (0: combinational).
module fp_add_mix #(
    parameter integer AEW = 8, parameter integer AMW = 23, parameter integer ASPECIAL = 0,
    parameter integer BEW = 8, parameter integer BMW = 23, parameter integer BSPECIAL = 0,
    parameter integer EW = 8, parameter integer MW = 23, parameter integer SPECIAL = 0,
    parameter integer OVF = 1,
    parameter integer LATENCY = 0
) (
    // verilator lint_off UNUSEDSIGNAL
    input  wire              clk,    // unused when LATENCY == 0
    input  wire              rst_n,  // unused when LATENCY == 0
    // verilator lint_on UNUSEDSIGNAL
    input  wire [AEW+AMW:0]  a,
    input  wire [BEW+BMW:0]  b,
    output wire [EW+MW:0]    y
);
  generate
    if (LATENCY < 0 || LATENCY > 8) begin : g_bad_latency
      ILLEGAL_PARAMETER_LATENCY_must_be_0_to_8 u_err ();
    end
  endgenerate

  localparam integer SW = ((AMW > BMW) ? AMW : BMW) + 1;
  localparam integer G = (MW + 4 - SW > 3) ? MW + 4 - SW : 3;
  localparam integer W = SW + G;

  // verilator lint_off UNUSEDSIGNAL
  wire za, zb;  // zeros need no flag: exp = -1024, sig = 0 sorts them lowest
  // verilator lint_on UNUSEDSIGNAL
  wire na, ia, sa, nb, ib, sb;
  wire [11:0] ea, eb;
  wire [SW-1:0] ma, mb;
  fp_unpack #(.EW(AEW), .MW(AMW), .SPECIAL(ASPECIAL), .SW(SW)) u_ua (
      .code(a), .nan(na), .inf(ia), .zero(za), .sign(sa), .exp(ea), .sig(ma));
  fp_unpack #(.EW(BEW), .MW(BMW), .SPECIAL(BSPECIAL), .SW(SW)) u_ub (
      .code(b), .nan(nb), .inf(ib), .zero(zb), .sign(sb), .exp(eb), .sig(mb));

  // zeros carry exp = -1024 and sig = 0, so they always lose the magnitude comparison
  wire a_big = ($signed(ea) > $signed(eb)) || (ea == eb && ma >= mb);
  wire [11:0] e_big = a_big ? ea : eb;
  wire [11:0] e_sml = a_big ? eb : ea;
  wire [SW-1:0] m_big = a_big ? ma : mb;
  wire [SW-1:0] m_sml = a_big ? mb : ma;
  wire s_big = a_big ? sa : sb;
  wire [11:0] d = e_big - e_sml;  // >= 0; at most 1024 + 129
  // lint waiver: 12-bit exponent constants: every legal value fits
  // verilator lint_off WIDTHTRUNC
  localparam [11:0] W_X = W;
  localparam signed [11:0] OFF_X = SW - 1 + G;
  // verilator lint_on WIDTHTRUNC
  wire [11:0] dc = (d > W_X) ? W_X : d;

  wire [W-1:0] x = {m_big, {G{1'b0}}};
  wire [W-1:0] yf = {m_sml, {G{1'b0}}};
  wire [W-1:0] ysh = yf >> dc;
  wire jam = (ysh << dc) != yf;
  wire [W-1:0] yj = ysh | {{(W - 1) {1'b0}}, jam};
  wire sub = sa ^ sb;
  wire [W:0] z = sub ? ({1'b0, x} - {1'b0, yj}) : ({1'b0, x} + {1'b0, yj});
  // exact zero: -0 only when both operands are -0 (IEEE RNE); magnitude ordering makes x >= yj
  wire s_res = (~|z) ? (sa & sb) : s_big;
  wire signed [11:0] zexp = $signed(e_big) - OFF_X;

  wire nan = na | nb | (ia & ib & (sa ^ sb));
  wire inf = ia | ib;
  wire [EW+MW:0] y_c;
  fp_round #(.ZW(W + 1), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_rnd (
      .nan(nan), .inf(inf), .inf_sign(ia ? sa : sb), .sign(s_res), .z(z), .zexp(zexp),
      .sticky(1'b0), .y(y_c));

  generate
    if (LATENCY == 0) begin : g_comb
`ifdef SYNTHESIS
      assign y = y_c;
`else
      // Simulation only (Yosys defines SYNTHESIS and reads the plain wire above, so synthesis results
      // do not depend on this): Icarus propagates each input change through the datapath's
      // reconvergent paths one at a time, so y_c can change several times per clock, and every
      // change re-evaluated all the adders downstream (klein's six in series: ~70x naive per clock).
      // Updating y in the NBA region passes on only the settled value, once per delta step: klein
      // chains simulate 2.5x faster.  Verilator treats it as the same wire.
      reg [EW+MW:0] y_r;
      // verilator lint_off COMBDLY
      always @* y_r <= y_c;
      // verilator lint_on COMBDLY
      assign y = y_r;
`endif
    end else begin : g_pipe
      reg [EW+MW:0] q [0:LATENCY-1];
      integer i;
      always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
          for (i = 0; i < LATENCY; i = i + 1) q[i] <= {(EW + MW + 1) {1'b0}};
        end else begin
          q[0] <= y_c;
          for (i = 1; i < LATENCY; i = i + 1) q[i] <= q[i-1];
        end
      end
      assign y = q[LATENCY-1];
    end
  endgenerate
endmodule
