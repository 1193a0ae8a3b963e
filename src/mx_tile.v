// R x C matmul tile of mx_dot units: output (r, c) is the MX dot product of row stream r and column
// stream c.  Each handshake carries one block of every row (R blocks of A, each K elements + E8M0
// scale) and one block of every column (C blocks of B); the R*C units share them, so a tile with
// R + C operand streams computes R*C dot products.  All units move in lockstep: the tile accepts a
// block when every unit can, and presents results when every unit has one (m_data: unit (r, c) at
// bits [(r*C + c)*(1+EW+MW) +: 1+EW+MW]).  s_last closes the current dot products.
module mx_tile #(
    parameter integer R = 2,                                        // rows (outputs per column), 1..16
    parameter integer C = 2,                                        // columns, 1..16
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = EW, parameter integer CMW = MW,
    parameter integer CSPECIAL = SPECIAL, parameter integer COVF = OVF,
    parameter integer SCHEME = 0,
    parameter integer MAXLEN = 1024
) (
    input  wire                       clk,
    input  wire                       rst_n,
    input  wire                       s_valid,
    output wire                       s_ready,
    input  wire [R*K*(1+EWA+MWA)-1:0] s_a,    // row r's block at bits [r*K*(1+EWA+MWA) +: ...]
    input  wire [R*8-1:0]             s_sa,
    input  wire [C*K*(1+EWB+MWB)-1:0] s_b,    // column c's block at bits [c*K*(1+EWB+MWB) +: ...]
    input  wire [C*8-1:0]             s_sb,
    input  wire                       s_last,
    output wire                       m_valid,
    input  wire                       m_ready,
    output wire [R*C*(1+EW+MW)-1:0]   m_data
);
    generate
        if (R < 1 || R > 16) begin : g_bad_r
            mx_param_error_R_must_be_1_to_16 u_err();
        end
        if (C < 1 || C > 16) begin : g_bad_c
            mx_param_error_C_must_be_1_to_16 u_err();
        end
    endgenerate

    localparam integer BA = K * (1 + EWA + MWA);
    localparam integer BB = K * (1 + EWB + MWB);
    localparam integer BY = 1 + EW + MW;

    wire [R*C-1:0] rdy, vld;
    assign s_ready = &rdy;
    assign m_valid = &vld;

    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_row
            for (c = 0; c < C; c = c + 1) begin : g_col
                mx_dot #(.K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB),
                         .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW),
                         .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(SCHEME), .MAXLEN(MAXLEN)) u_dot (
                    .clk(clk), .rst_n(rst_n),
                    .s_valid(s_valid && s_ready), .s_ready(rdy[r*C+c]),
                    .s_a(s_a[r*BA +: BA]), .s_b(s_b[c*BB +: BB]),
                    .s_sa(s_sa[r*8 +: 8]), .s_sb(s_sb[c*8 +: 8]), .s_last(s_last),
                    .m_valid(vld[r*C+c]), .m_ready(m_ready && m_valid),
                    .m_data(m_data[(r*C+c)*BY +: BY]));
            end
        end
    endgenerate
endmodule
