// Testbench-only wrapper: LANES acc_pairwise_seq instances per scheme, fed in lockstep from one packed
// s_data bus (lane i = bits [i*AW +: AW]) with shared s_valid/s_last/m_ready.  All lanes see sums of
// the same length, so their handshakes are identical (the carry pattern depends only on the count);
// the testbench checks that.  SCHEME 0..5 builds one scheme, 6 all six (scheme-major outputs).
module acc_pairwise_lanes #(
    parameter integer EW = 4, parameter integer MW = 3, parameter integer SPECIAL = 1, parameter integer OVF = 2,
    parameter integer CEW = 4, parameter integer CMW = 3, parameter integer CSPECIAL = 1, parameter integer COVF = 2,
    parameter integer LANES = 8,
    parameter integer SCHEME = 6,
    parameter integer MAXLEN = 1024
) (
    input  wire                                             clk,
    input  wire                                             rst_n,
    input  wire                                             s_valid,
    input  wire                                             s_last,
    input  wire [LANES*(EW+MW+1)-1:0]                       s_data,
    input  wire                                             m_ready,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES-1:0]           s_ready,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES-1:0]           m_valid,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(EW+MW+1)-1:0] m_data,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(EW+MW+1)-1:0] m_s,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(CEW+CMW+1)-1:0] m_c1,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(CEW+CMW+1)-1:0] m_c2
);
  localparam integer NSC = (SCHEME == 6) ? 6 : 1;
  localparam integer SC0 = (SCHEME == 6) ? 0 : SCHEME;
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  generate
    if (SCHEME < 0 || SCHEME > 6) begin : g_bad_scheme
      ILLEGAL_PARAMETER_SCHEME_must_be_0_to_6 u_err ();
    end
  endgenerate
  genvar k, ln;
  generate
    for (k = 0; k < NSC; k = k + 1) begin : g_scheme
      for (ln = 0; ln < LANES; ln = ln + 1) begin : g_lane
        localparam integer J = k * LANES + ln;
        acc_pairwise_seq #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW),
                           .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(SC0 + k), .MAXLEN(MAXLEN)) u_acc (
            .clk(clk), .rst_n(rst_n), .s_valid(s_valid), .s_ready(s_ready[J]), .s_data(s_data[ln*AW +: AW]),
            .s_last(s_last), .m_valid(m_valid[J]), .m_ready(m_ready), .m_data(m_data[J*AW +: AW]),
            .m_s(m_s[J*AW +: AW]), .m_c1(m_c1[J*CW +: CW]), .m_c2(m_c2[J*CW +: CW]));
      end
    end
  endgenerate
endmodule
