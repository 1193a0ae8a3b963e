// Pipelined exact (Kulisch) accumulation of N inputs: every element becomes an exact fixed-point term
// (kulisch_term), a binary tree of integer adders sums the terms without any rounding, and fp_round
// rounds the exact sum once (RNE, overflow policy OVF).  The result is golden's kulisch for any order,
// so the tree shape only sets the latency; it pairs 2i with 2i+1 and passes an odd last node up, as
// acc_tree does.  Term width = MW + MAXEF + clog2(N + 1) + 1 bits: N terms cannot overflow it.
// Non-finite elements follow golden: NaN, or +Inf with -Inf, -> NaN; else +-Inf through OVF.
// An exact zero sum is +0.  Pipeline: a register after the terms, after each of clog2(N) levels and
// after rounding: latency = clog2(N) + 2 cycles from in_valid to out_valid, one N-vector per cycle.
module acc_kulisch_tree #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer N = 8
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire                   in_valid,
    input  wire [N*(EW+MW+1)-1:0] in_data,
    output wire                   out_valid,
    output reg  [EW+MW:0]         out_data
);
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_chk ();
  generate
    if (N < 1 || N > 4096) begin : g_bad_n
      ILLEGAL_PARAMETER_N_must_be_1_to_4096 u_err ();
    end
  endgenerate
  localparam integer AW = EW + MW + 1;
  localparam integer BIAS = (1 << (EW - 1)) - 1;
  localparam integer EMIN = 1 - BIAS;
  localparam integer MAXEF = (SPECIAL == 0) ? (1 << EW) - 2 : (1 << EW) - 1;
  localparam integer FW = MW + MAXEF + $clog2(N + 1) + 1;
  localparam integer TW = FW + 3;  // one node: {ninf, pinf, nan, term}
  localparam integer L = (N > 1) ? $clog2(N) : 0;
  // lint waiver: EMIN - MW >= -150 fits 12 bits
  // verilator lint_off WIDTHTRUNC
  localparam signed [11:0] QEXP = EMIN - MW;
  // verilator lint_on WIDTHTRUNC

  // nd: every registered node, level by level; level l holds ceil(N / 2^l) nodes from index base(l).
  // A word array rather than one wide bus: Icarus re-evaluates every part-select of a bus whenever any
  // bit of it changes, which made a 1000-input tree take minutes per clock.
  function integer base(input integer lev);
    integer k;
    begin
      base = 0;
      for (k = 0; k < lev; k = k + 1) base = base + ((N + (1 << k) - 1) >> k);
    end
  endfunction
  wire [TW-1:0] nd [0:base(L+1)-1];
  reg  [L+1:0] vq;

  genvar l, i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_leaf
      wire [TW-1:0] d;
      reg  [TW-1:0] q;
      kulisch_term #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .FW(FW)) u_term (
          .x(in_data[i*AW +: AW]), .term(d[FW-1:0]), .nan(d[FW]), .pinf(d[FW+1]), .ninf(d[FW+2]));
      always @(posedge clk or negedge rst_n)
        if (!rst_n) q <= {TW{1'b0}};
        else q <= d;
      assign nd[i] = q;
    end
    for (l = 1; l <= L; l = l + 1) begin : g_lvl
      localparam integer WP = (N + (1 << (l - 1)) - 1) >> (l - 1);  // nodes in the level below
      localparam integer WN = (N + (1 << l) - 1) >> l;              // nodes in this level
      localparam integer BP = base(l - 1), BN = base(l);
      for (i = 0; i < WN; i = i + 1) begin : g_i
        wire [TW-1:0] d;
        reg  [TW-1:0] q;
        if (2 * i + 1 < WP) begin : g_add
          wire [TW-1:0] a = nd[BP+2*i], b = nd[BP+2*i+1];
          assign d = {a[FW +: 3] | b[FW +: 3], a[FW-1:0] + b[FW-1:0]};
        end else begin : g_pass
          assign d = nd[BP+2*i];
        end
        always @(posedge clk or negedge rst_n)
          if (!rst_n) q <= {TW{1'b0}};
          else q <= d;
        assign nd[BN+i] = q;
      end
    end
  endgenerate

  wire [TW-1:0] root = nd[base(L)];
  wire [FW-1:0] sum = root[FW-1:0];
  wire r_nan = root[FW], r_pinf = root[FW+1], r_ninf = root[FW+2];
  wire neg = sum[FW-1];
  wire [FW-1:0] absx = neg ? (~sum + 1'b1) : sum;
  wire [AW-1:0] fin;
  fp_round #(.ZW(FW), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .SUBEXACT(1)) u_rnd (
      .nan(r_nan | (r_pinf & r_ninf)), .inf(r_pinf | r_ninf), .inf_sign(r_ninf), .sign(neg),
      .z(absx), .zexp(QEXP), .sticky(1'b0), .y(fin));

  always @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      vq <= {(L + 2) {1'b0}};
      out_data <= {AW{1'b0}};
    end else begin
      vq <= {vq[L:0], in_valid};
      out_data <= fin;
    end
  end
  assign out_valid = vq[L+1];
endmodule
