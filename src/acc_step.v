// One element step of golden/accumulate.py's recurrences (combinational), for SCHEME
// 0 naive, 1 kahan, 2 neumaier, 3 twosum, 4 fasttwosum, 5 klein.  A(.) = fp_add_mix rounding into the
// accumulator format (EW, MW, SPECIAL, OVF), C(.) into the compensation format (CEW, CMW, CSPECIAL,
// COVF); operands keep their own formats, so every operation is one exact-then-rounded addition.
// State: s (acc); c1 = c (kahan..fasttwosum) or cs (klein); c2 = ccs (klein); unused = 0.
//   naive       s' = A(s + x)
//   kahan       y = A(x - c); t = A(s + y); c' = C(A(t - s) - y); s' = t
//   neumaier    t = A(s + x); e = A(A(p - t) + q), (p, q) = |s| >= |x| ? (s, x) : (x, s); c' = C(c + e)
//   twosum      t = A(s + x); x' = A(t - s); s'' = A(t - x'); e = A(A(s - s'') + A(x - x')); c' = C(c + e)
//   fasttwosum  (a, b) = |s| >= |x| ? (s, x) : (x, s); t = A(a + b); e = A(b - A(t - a)); c' = C(c + e)
//   klein       t = A(s + x); ci = as neumaier's e; t2 = C(cs + ci);
//               cc = |cs| >= |ci| ? C(C(cs - t2) + ci) : C(C(ci - t2) + cs); cs' = t2; ccs' = C(ccs + cc)
// Combinational depth (adders in series): naive 1, kahan 4, neumaier 3, twosum 5, fasttwosum 3, klein 6.
module acc_step #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = 8, parameter integer CMW = 7, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0
) (
    // verilator lint_off UNUSEDSIGNAL
    // c1/c2 inputs are unused by the schemes that do not keep them
    input  wire [EW+MW:0]    s,
    input  wire [CEW+CMW:0]  c1,
    input  wire [CEW+CMW:0]  c2,
    // verilator lint_on UNUSEDSIGNAL
    input  wire [EW+MW:0]    x,
    output wire [EW+MW:0]    ns,
    output wire [CEW+CMW:0]  nc1,
    output wire [CEW+CMW:0]  nc2
);
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_chk_acc ();
  fp_param_check #(.EW(CEW), .MW(CMW), .SPECIAL(CSPECIAL), .OVF(COVF)) u_chk_comp ();
  generate
    if (SCHEME < 0 || SCHEME > 5) begin : g_bad_scheme
      ILLEGAL_PARAMETER_SCHEME_must_be_0_naive_1_kahan_2_neumaier_3_twosum_4_fasttwosum_5_klein u_err ();
    end
  endgenerate

// operand/result format triples: A = accumulator, C = compensation
`define APACE_ADD(N, AE, AM, AS, BE, BM, BS, OE, OM, OS, OO, IA, IB, OY) \
  fp_add_mix #(.AEW(AE), .AMW(AM), .ASPECIAL(AS), .BEW(BE), .BMW(BM), .BSPECIAL(BS), \
               .EW(OE), .MW(OM), .SPECIAL(OS), .OVF(OO), .LATENCY(0)) \
    N (.clk(1'b0), .rst_n(1'b1), .a(IA), .b(IB), .y(OY))
`define ADD_AAA(N, IA, IB, OY) `APACE_ADD(N, EW, MW, SPECIAL, EW, MW, SPECIAL, EW, MW, SPECIAL, OVF, IA, IB, OY)
`define ADD_ACA(N, IA, IB, OY) `APACE_ADD(N, EW, MW, SPECIAL, CEW, CMW, CSPECIAL, EW, MW, SPECIAL, OVF, IA, IB, OY)
`define ADD_AAC(N, IA, IB, OY) `APACE_ADD(N, EW, MW, SPECIAL, EW, MW, SPECIAL, CEW, CMW, CSPECIAL, COVF, IA, IB, OY)
`define ADD_CAC(N, IA, IB, OY) `APACE_ADD(N, CEW, CMW, CSPECIAL, EW, MW, SPECIAL, CEW, CMW, CSPECIAL, COVF, IA, IB, OY)
`define ADD_ACC(N, IA, IB, OY) `APACE_ADD(N, EW, MW, SPECIAL, CEW, CMW, CSPECIAL, CEW, CMW, CSPECIAL, COVF, IA, IB, OY)
`define ADD_CCC(N, IA, IB, OY) `APACE_ADD(N, CEW, CMW, CSPECIAL, CEW, CMW, CSPECIAL, CEW, CMW, CSPECIAL, COVF, IA, IB, OY)

  // <v>_n: sign-flipped operands (subtraction = flip b's sign), named so macro arguments stay simple

  generate
    if (SCHEME == 0) begin : g_naive
      `ADD_AAA(u_t, s, x, ns);
      assign nc1 = {CW{1'b0}};
      assign nc2 = {CW{1'b0}};
    end else if (SCHEME == 1) begin : g_kahan
      wire [AW-1:0] y, t, d;
      wire [AW-1:0] y_n = {~y[AW-1], y[AW-2:0]};
      wire [AW-1:0] s_n = {~s[AW-1], s[AW-2:0]};
      wire [CW-1:0] c1_n = {~c1[CW-1], c1[CW-2:0]};
      `ADD_ACA(u_y, x, c1_n, y);
      `ADD_AAA(u_t, s, y, t);
      `ADD_AAA(u_d, t, s_n, d);
      `ADD_AAC(u_c, d, y_n, nc1);
      assign ns = t;
      assign nc2 = {CW{1'b0}};
    end else if (SCHEME == 2 || SCHEME == 4) begin : g_branchy
      // neumaier and fasttwosum share the |s| >= |x| ordering
      wire ge;
      fp_cmp_mag #(.AEW(EW), .AMW(MW), .ASPECIAL(SPECIAL), .BEW(EW), .BMW(MW), .BSPECIAL(SPECIAL)) u_cmp (
          .a(s), .b(x), .ge(ge));
      wire [AW-1:0] p = ge ? s : x;
      wire [AW-1:0] q = ge ? x : s;
      wire [AW-1:0] t, u, e;
      wire [AW-1:0] t_n = {~t[AW-1], t[AW-2:0]};
      wire [AW-1:0] p_n = {~p[AW-1], p[AW-2:0]};
      wire [AW-1:0] u_n = {~u[AW-1], u[AW-2:0]};
      `ADD_AAA(u_t, p, q, t);
      wire [AW-1:0] ua = (SCHEME == 2) ? p : t;
      wire [AW-1:0] ub = (SCHEME == 2) ? t_n : p_n;
      wire [AW-1:0] eb = (SCHEME == 2) ? u : u_n;
      `ADD_AAA(u_u, ua, ub, u);
      // neumaier e = A(A(p - t) + q); fasttwosum e = A(q - A(t - p))
      `ADD_AAA(u_e, q, eb, e);
      `ADD_CAC(u_c, c1, e, nc1);
      assign ns = t;
      assign nc2 = {CW{1'b0}};
    end else if (SCHEME == 3) begin : g_twosum
      wire [AW-1:0] t, xp, sp, ds, dx, e;
      wire [AW-1:0] xp_n = {~xp[AW-1], xp[AW-2:0]};
      wire [AW-1:0] sp_n = {~sp[AW-1], sp[AW-2:0]};
      wire [AW-1:0] s_n = {~s[AW-1], s[AW-2:0]};
      `ADD_AAA(u_t, s, x, t);
      `ADD_AAA(u_xp, t, s_n, xp);
      `ADD_AAA(u_sp, t, xp_n, sp);
      `ADD_AAA(u_ds, s, sp_n, ds);
      `ADD_AAA(u_dx, x, xp_n, dx);
      `ADD_AAA(u_e, ds, dx, e);
      `ADD_CAC(u_c, c1, e, nc1);
      assign ns = t;
      assign nc2 = {CW{1'b0}};
    end else begin : g_klein
      wire ge, ge2;
      fp_cmp_mag #(.AEW(EW), .AMW(MW), .ASPECIAL(SPECIAL), .BEW(EW), .BMW(MW), .BSPECIAL(SPECIAL)) u_cmp (
          .a(s), .b(x), .ge(ge));
      wire [AW-1:0] p = ge ? s : x;
      wire [AW-1:0] q = ge ? x : s;
      wire [AW-1:0] t, u, ci;
      wire [AW-1:0] t_n = {~t[AW-1], t[AW-2:0]};
      `ADD_AAA(u_t, s, x, t);
      `ADD_AAA(u_u, p, t_n, u);
      `ADD_AAA(u_ci, u, q, ci);
      wire [CW-1:0] t2, v1, v2, br1, br2;
      wire [CW-1:0] t2_n = {~t2[CW-1], t2[CW-2:0]};
      wire [CW-1:0] cc = ge2 ? br1 : br2;
      `ADD_CAC(u_t2, c1, ci, t2);
      fp_cmp_mag #(.AEW(CEW), .AMW(CMW), .ASPECIAL(CSPECIAL), .BEW(EW), .BMW(MW), .BSPECIAL(SPECIAL)) u_cmp2 (
          .a(c1), .b(ci), .ge(ge2));
      `ADD_CCC(u_v1, c1, t2_n, v1);
      `ADD_CAC(u_b1, v1, ci, br1);
      `ADD_ACC(u_v2, ci, t2_n, v2);
      `ADD_CCC(u_b2, v2, c1, br2);
      `ADD_CCC(u_cc, c2, cc, nc2);
      assign ns = t;
      assign nc1 = t2;
    end
  endgenerate
`undef ADD_AAA
`undef ADD_ACA
`undef ADD_AAC
`undef ADD_CAC
`undef ADD_ACC
`undef ADD_CCC
`undef APACE_ADD
endmodule
