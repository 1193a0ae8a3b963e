// Testbench-only wrapper: for each scheme 0..5 (acc_seq) and Kulisch (index 6), LANES accumulators fed
// in lockstep from one packed s_data bus (lane i = bits [i*AW +: AW]); shared s_valid/s_last/m_ready.
// Output buses are scheme-major: instance j = scheme*LANES + lane.
module acc_seq_lanes #(
    parameter integer EW = 4, parameter integer MW = 3, parameter integer SPECIAL = 1, parameter integer OVF = 2,
    parameter integer CEW = 4, parameter integer CMW = 3, parameter integer CSPECIAL = 1, parameter integer COVF = 2,
    parameter integer LANES = 8,
    parameter integer MAXLEN = 4096
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire                     s_valid,
    input  wire                     s_last,
    input  wire [LANES*(EW+MW+1)-1:0] s_data,
    input  wire                     m_ready,
    output wire [7*LANES-1:0]       s_ready,
    output wire [7*LANES-1:0]       m_valid,
    output wire [7*LANES*(EW+MW+1)-1:0] m_data,
    output wire [6*LANES*(EW+MW+1)-1:0] m_s,
    output wire [6*LANES*(CEW+CMW+1)-1:0] m_c1,
    output wire [6*LANES*(CEW+CMW+1)-1:0] m_c2
);
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  genvar sc, ln;
  generate
    for (sc = 0; sc < 6; sc = sc + 1) begin : g_scheme
      for (ln = 0; ln < LANES; ln = ln + 1) begin : g_lane
        localparam integer J = sc * LANES + ln;
        acc_seq #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                  .COVF(COVF), .SCHEME(sc)) u_acc (
            .clk(clk), .rst_n(rst_n), .s_valid(s_valid), .s_ready(s_ready[J]), .s_data(s_data[ln*AW +: AW]),
            .s_last(s_last), .m_valid(m_valid[J]), .m_ready(m_ready), .m_data(m_data[J*AW +: AW]),
            .m_s(m_s[J*AW +: AW]), .m_c1(m_c1[J*CW +: CW]), .m_c2(m_c2[J*CW +: CW]));
      end
    end
    for (ln = 0; ln < LANES; ln = ln + 1) begin : g_kulisch
      localparam integer J = 6 * LANES + ln;
      acc_kulisch_seq #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .MAXLEN(MAXLEN)) u_acc (
          .clk(clk), .rst_n(rst_n), .s_valid(s_valid), .s_ready(s_ready[J]), .s_data(s_data[ln*AW +: AW]),
          .s_last(s_last), .m_valid(m_valid[J]), .m_ready(m_ready), .m_data(m_data[J*AW +: AW]));
    end
  endgenerate
endmodule
