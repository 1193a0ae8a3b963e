// Streaming pairwise accumulator: golden.accumulate order 'pairwise' over a sum of any length
// 1..MAXLEN arriving one element at a time (the tree acc_tree unrolls for a fixed N; this module
// serves long sums, e.g. >= 1000 elements, with one acc_step and one acc_combine).
//
// Why a binary-counter stack equals golden's tree: golden pairs adjacent states level by level and
// passes an odd last state up.  Slot k of the stack holds the state of a complete 2^k-element subtree
// (occ[k] set); a new leaf enters at level 0 and, while slot k is occupied, becomes
// combine(slot k, pending) one level up (left = the earlier subtree), exactly the node golden builds
// over those 2^(k+1) adjacent elements.  At s_last the remaining slots are the binary decomposition
// of the length; golden's pass-up rule makes the trailing (smaller) subtrees the right child of the
// next larger one, i.e. pending = combine(slot k, pending) for every occupied k from the bottom up.
// (Checked against golden for lengths 1..1025 by tb/acc_tree, test_acc_pairwise_seq.)
//
// Timing: an element is accepted when nothing is pending or the pending state is being placed in an
// empty slot this cycle; each combine costs one cycle, so an element costs 1 + (number of carries)
// cycles, on average < 2 over a sum.  After s_last: one cycle per slot level up to the top occupied
// one (<= clog2(MAXLEN+1) + 1 cycles), then the result is registered (m_valid) and held until
// m_ready; the next sum's elements are accepted meanwhile, only its own finish waits for the output.
// Ports and m_s/m_c1/m_c2 as acc_seq.  Sums longer than MAXLEN are not supported (the stack has
// clog2(MAXLEN+1) slots; a longer sum would carry out of the top slot).
module acc_pairwise_seq #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer CEW = 8, parameter integer CMW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0,
    parameter integer MAXLEN = 4096
) (
    input  wire              clk,
    input  wire              rst_n,
    input  wire              s_valid,
    output wire              s_ready,
    input  wire [EW+MW:0]    s_data,
    input  wire              s_last,
    output reg               m_valid,
    input  wire              m_ready,
    output reg  [EW+MW:0]    m_data,
    output reg  [EW+MW:0]    m_s,
    output reg  [CEW+CMW:0]  m_c1,
    output reg  [CEW+CMW:0]  m_c2
);
  generate
    if (MAXLEN < 1 || MAXLEN > (1 << 20)) begin : g_bad_maxlen
      ILLEGAL_PARAMETER_MAXLEN_must_be_1_to_2pow20 u_err ();
    end
  endgenerate
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  localparam integer STW = AW + 2 * CW;             // one state: {c2, c1, s}
  localparam integer D = $clog2(MAXLEN + 1);         // slots: a count <= MAXLEN has D bits
  localparam integer KW = $clog2(D + 1);             // level index 0..D-1 (+1 headroom)

  reg  [D*STW-1:0] slots;
  reg  [D-1:0]     occ;
  reg  [STW-1:0]   pend;
  reg              pv, plast;
  reg  [KW-1:0]    k;

  // leaf: the new element fed into the zero state
  wire [STW-1:0] leaf;
  acc_step #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
             .COVF(COVF), .SCHEME(SCHEME)) u_leaf (
      .s({AW{1'b0}}), .c1({CW{1'b0}}), .c2({CW{1'b0}}), .x(s_data),
      .ns(leaf[0 +: AW]), .nc1(leaf[AW +: CW]), .nc2(leaf[AW+CW +: CW]));

  // the one tree node: left = slot k (earlier elements), right = pending
  wire [STW-1:0] left = slots[k*STW +: STW];
  wire [STW-1:0] comb;
  acc_combine #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                .COVF(COVF), .SCHEME(SCHEME)) u_comb (
      .ls(left[0 +: AW]), .lc1(left[AW +: CW]), .lc2(left[AW+CW +: CW]),
      .rs(pend[0 +: AW]), .rc1(pend[AW +: CW]), .rc2(pend[AW+CW +: CW]),
      .ns(comb[0 +: AW]), .nc1(comb[AW +: CW]), .nc2(comb[AW+CW +: CW]));

  wire [AW-1:0] fin;
  acc_final #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
              .COVF(COVF), .SCHEME(SCHEME)) u_fin (
      .s(pend[0 +: AW]), .c1(pend[AW +: CW]), .c2(pend[AW+CW +: CW]), .y(fin));

  wire occ_k = occ[k];
  wire out_free = ~m_valid | m_ready;
  // below level k every slot is empty (merged into pend), so occ == 0 means nothing is left to add
  wire place = pv & ~occ_k & ~plast;
  wire finish = pv & plast & (occ == {D{1'b0}}) & out_free;
  assign s_ready = ~pv | place | finish;
  wire take = s_valid & s_ready;

  always @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      slots <= {(D * STW) {1'b0}};
      occ <= {D{1'b0}};
      pend <= {STW{1'b0}};
      pv <= 1'b0;
      plast <= 1'b0;
      k <= {KW{1'b0}};
      m_valid <= 1'b0;
      m_data <= {AW{1'b0}};
      m_s <= {AW{1'b0}};
      m_c1 <= {CW{1'b0}};
      m_c2 <= {CW{1'b0}};
    end else begin
      if (m_valid && m_ready) m_valid <= 1'b0;
      if (pv) begin
        if (occ_k) begin
          // carry: merge with the earlier subtree of the same size, one level up
          pend <= comb;
          occ[k] <= 1'b0;
          k <= k + 1'b1;
        end else if (!plast) begin
          slots[k*STW +: STW] <= pend;
          occ[k] <= 1'b1;
          pv <= 1'b0;
        end else if (finish) begin
          m_valid <= 1'b1;
          m_data <= fin;
          m_s <= pend[0 +: AW];
          m_c1 <= pend[AW +: CW];
          m_c2 <= pend[AW+CW +: CW];
          pv <= 1'b0;
        end else if (occ != {D{1'b0}}) begin
          k <= k + 1'b1;  // empty level during the final pass: skip it
        end
      end
      if (take) begin
        pend <= leaf;
        pv <= 1'b1;
        plast <= s_last;
        k <= {KW{1'b0}};
      end
    end
  end
endmodule
