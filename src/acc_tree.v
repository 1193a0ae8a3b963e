// Pipelined pairwise accumulation tree over N inputs, golden.accumulate order 'pairwise':
// leaves = each element fed into the zero state (acc_step); level by level node i = combine(state 2i,
// state 2i+1) (acc_combine), an odd last state passes up unchanged; then acc_final.
// Pipeline: a register after the leaves, after each of clog2(N) levels and after finalisation:
// latency = clog2(N) + 2 cycles from in_valid to out_valid, throughput one N-vector per cycle, no stall.
// out_s/out_c1/out_c2: final state (same meaning as acc_seq's m_s/m_c1/m_c2).
module acc_tree #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer CEW = 8, parameter integer CMW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0,
    parameter integer N = 8
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire                   in_valid,
    input  wire [N*(EW+MW+1)-1:0] in_data,
    output wire                   out_valid,
    output reg  [EW+MW:0]         out_data,
    output reg  [EW+MW:0]         out_s,
    output reg  [CEW+CMW:0]       out_c1,
    output reg  [CEW+CMW:0]       out_c2
);
  generate
    if (N < 1 || N > 4096) begin : g_bad_n
      ILLEGAL_PARAMETER_N_must_be_1_to_4096 u_err ();
    end
  endgenerate
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  localparam integer STW = AW + 2 * CW;  // one state: {c2, c1, s}
  localparam integer L = (N > 1) ? $clog2(N) : 0;

  // lv[l]: registered states of level l (N slots; level l uses ceil(N / 2^l))
  // lint waiver: slots above a level's width ceil(N / 2^l) are tied to 0 and never read
  // verilator lint_off UNUSEDSIGNAL
  wire [(L+1)*N*STW-1:0] lv;
  // verilator lint_on UNUSEDSIGNAL
  reg  [L+1:0] vq;

  genvar l, i;
  generate
    // level 0: leaves
    if (1) begin : g_leaf
      wire [N*STW-1:0] d;
      reg  [N*STW-1:0] q;
      for (i = 0; i < N; i = i + 1) begin : g_i
        acc_step #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                   .COVF(COVF), .SCHEME(SCHEME)) u_step (
            .s({AW{1'b0}}), .c1({CW{1'b0}}), .c2({CW{1'b0}}), .x(in_data[i*AW +: AW]),
            .ns(d[i*STW +: AW]), .nc1(d[i*STW+AW +: CW]), .nc2(d[i*STW+AW+CW +: CW]));
      end
      always @(posedge clk or negedge rst_n)
        if (!rst_n) q <= {(N * STW) {1'b0}};
        else q <= d;
      assign lv[0 +: N*STW] = q;
    end
    for (l = 1; l <= L; l = l + 1) begin : g_lvl
      localparam integer WP = (N + (1 << (l - 1)) - 1) >> (l - 1);  // states in the level below
      localparam integer WN = (N + (1 << l) - 1) >> l;              // states in this level
      // lint waiver: only the first WP slots of the level below are read
      // verilator lint_off UNUSEDSIGNAL
      wire [N*STW-1:0] prev = lv[(l-1)*N*STW +: N*STW];
      // verilator lint_on UNUSEDSIGNAL
      wire [N*STW-1:0] d;
      reg  [N*STW-1:0] q;
      for (i = 0; i < WN; i = i + 1) begin : g_i
        if (2 * i + 1 < WP) begin : g_node
          acc_combine #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW),
                        .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(SCHEME)) u_comb (
              .ls(prev[(2*i)*STW +: AW]), .lc1(prev[(2*i)*STW+AW +: CW]), .lc2(prev[(2*i)*STW+AW+CW +: CW]),
              .rs(prev[(2*i+1)*STW +: AW]), .rc1(prev[(2*i+1)*STW+AW +: CW]),
              .rc2(prev[(2*i+1)*STW+AW+CW +: CW]),
              .ns(d[i*STW +: AW]), .nc1(d[i*STW+AW +: CW]), .nc2(d[i*STW+AW+CW +: CW]));
        end else begin : g_pass
          assign d[i*STW +: STW] = prev[(2*i)*STW +: STW];
        end
      end
      if (WN < N) begin : g_unused
        assign d[N*STW-1:WN*STW] = {((N - WN) * STW) {1'b0}};
      end
      always @(posedge clk or negedge rst_n)
        if (!rst_n) q <= {(N * STW) {1'b0}};
        else q <= d;
      assign lv[l*N*STW +: N*STW] = q;
    end
  endgenerate

  // verilator lint_off UNUSEDSIGNAL
  // only slot 0 of the top level is the root; the other slots of lv are consumed level by level
  wire [STW-1:0] root = lv[L*N*STW +: STW];
  // verilator lint_on UNUSEDSIGNAL
  wire [AW-1:0] fin;
  acc_final #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
              .COVF(COVF), .SCHEME(SCHEME)) u_fin (
      .s(root[AW-1:0]), .c1(root[AW +: CW]), .c2(root[AW+CW +: CW]), .y(fin));

  always @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      vq <= {(L + 2) {1'b0}};
      out_data <= {AW{1'b0}};
      out_s <= {AW{1'b0}};
      out_c1 <= {CW{1'b0}};
      out_c2 <= {CW{1'b0}};
    end else begin
      vq <= {vq[L:0], in_valid};
      out_data <= fin;
      out_s <= root[AW-1:0];
      out_c1 <= root[AW +: CW];
      out_c2 <= root[AW+CW +: CW];
    end
  end
  assign out_valid = vq[L+1];
endmodule
