// Testbench-only wrapper: L independent mx_dot units in lockstep (one shared handshake), so one
// clock carries L dot products' blocks.  Lane i's operands/result at [i*width +: width].
// Lane i accumulates with SCHEME = i % 7 (0 naive .. 5 klein, 6 kulisch): one build checks every scheme.
module mx_dot_lanes #(
    parameter integer L = 7,
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = EW, parameter integer CMW = MW,
    parameter integer CSPECIAL = SPECIAL, parameter integer COVF = OVF,
    parameter integer MAXLEN = 1024
) (
    input  wire                       clk,
    input  wire                       rst_n,
    input  wire                       s_valid,
    output wire                       s_ready,
    input  wire [L*K*(1+EWA+MWA)-1:0] s_a,
    input  wire [L*K*(1+EWB+MWB)-1:0] s_b,
    input  wire [L*8-1:0]             s_sa,
    input  wire [L*8-1:0]             s_sb,
    input  wire                       s_last,
    output wire                       m_valid,
    input  wire                       m_ready,
    output wire [L*(1+EW+MW)-1:0]     m_data
);
    localparam integer BA = K * (1 + EWA + MWA);
    localparam integer BB = K * (1 + EWB + MWB);
    localparam integer BY = 1 + EW + MW;
    wire [L-1:0] rdy, vld;
    assign s_ready = &rdy;
    assign m_valid = &vld;
    genvar i;
    generate
        for (i = 0; i < L; i = i + 1) begin : g_lane
            mx_dot #(.K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB),
                     .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW),
                     .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(i % 7), .MAXLEN(MAXLEN)) u_dot (
                .clk(clk), .rst_n(rst_n),
                .s_valid(s_valid && s_ready), .s_ready(rdy[i]),
                .s_a(s_a[i*BA +: BA]), .s_b(s_b[i*BB +: BB]), .s_sa(s_sa[i*8 +: 8]), .s_sb(s_sb[i*8 +: 8]),
                .s_last(s_last), .m_valid(vld[i]), .m_ready(m_ready && m_valid), .m_data(m_data[i*BY +: BY]));
        end
    endgenerate
endmodule
