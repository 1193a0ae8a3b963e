// ge = |a| >= |b| for codes in two (possibly different) formats; 0 if either is NaN (as numpy's
// abs(nan) >= x), Inf is larger than every finite value.  Used for the |s| >= |x| branches of
// neumaier / fasttwosum / klein.
module fp_cmp_mag #(
    parameter integer AEW = 8, parameter integer AMW = 23, parameter integer ASPECIAL = 0,
    parameter integer BEW = 8, parameter integer BMW = 23, parameter integer BSPECIAL = 0
) (
    input  wire [AEW+AMW:0] a,
    input  wire [BEW+BMW:0] b,
    output wire             ge
);
  localparam integer SW = ((AMW > BMW) ? AMW : BMW) + 1;
  // verilator lint_off UNUSEDSIGNAL
  wire na, ia, za, sa, nb, ib, zb, sb;  // zero/sign flags not needed: zeros sort lowest by exp
  // verilator lint_on UNUSEDSIGNAL
  wire [11:0] ea, eb;
  wire [SW-1:0] ma, mb;
  fp_unpack #(.EW(AEW), .MW(AMW), .SPECIAL(ASPECIAL), .SW(SW)) u_ua (
      .code(a), .nan(na), .inf(ia), .zero(za), .sign(sa), .exp(ea), .sig(ma));
  fp_unpack #(.EW(BEW), .MW(BMW), .SPECIAL(BSPECIAL), .SW(SW)) u_ub (
      .code(b), .nan(nb), .inf(ib), .zero(zb), .sign(sb), .exp(eb), .sig(mb));
  wire fin_ge = ($signed(ea) > $signed(eb)) || (ea == eb && ma >= mb);
  assign ge = ~na & ~nb & (ia | (~ib & fin_ge));
endmodule
