// Testbench-only top: tb/mx_dot/mx_player.v streaming into mx_tile.
// Beat payload {s_sb, s_sa, s_b, s_a} (s_a at the LSBs), result = m_data (R*C codes).
module mx_tile_bench #(
    parameter integer R = 2,
    parameter integer C = 2,
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = EW, parameter integer CMW = MW,
    parameter integer CSPECIAL = SPECIAL, parameter integer COVF = OVF,
    parameter integer SCHEME = 0,
    parameter integer MAXLEN = 1024,
    parameter integer DEPTH = 1024
) (
    input  wire        clk,
    input  wire        rst_n,
    input  wire        go,
    input  wire        stall,
    input  wire [31:0] n_beats,
    input  wire [31:0] n_res,
    output wire        done,
    output wire        timeout
);
    localparam integer BA = R * K * (1 + EWA + MWA);
    localparam integer BB = C * K * (1 + EWB + MWB);
    localparam integer IW = BA + BB + 8 * R + 8 * C;
    localparam integer OW = R * C * (1 + EW + MW);
    wire          s_valid, s_ready, s_last, m_valid, m_ready;
    wire [IW-1:0] s_data;
    wire [OW-1:0] m_data;
    mx_player #(.IW(IW), .OW(OW), .DEPTH(DEPTH)) u_play (
        .clk(clk), .rst_n(rst_n), .go(go), .stall(stall), .n_beats(n_beats), .n_res(n_res),
        .done(done), .timeout(timeout), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .s_last(s_last), .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data));
    mx_tile #(.R(R), .C(C), .K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB),
              .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW),
              .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(SCHEME), .MAXLEN(MAXLEN)) u_dut (
        .clk(clk), .rst_n(rst_n), .s_valid(s_valid), .s_ready(s_ready),
        .s_a(s_data[0 +: BA]), .s_b(s_data[BA +: BB]), .s_sa(s_data[BA+BB +: 8*R]),
        .s_sb(s_data[BA+BB+8*R +: 8*C]), .s_last(s_last),
        .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data));
endmodule
