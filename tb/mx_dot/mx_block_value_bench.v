// Testbench-only top: mx_player streaming into mx_block_value_lanes (combinational), whose outputs
// are registered here so every accepted beat yields one result word the next cycle.
// Beat payload {sb, sa, b, a} (a at the LSBs); the beat's `last` bit is ignored.
module mx_block_value_bench #(
    parameter integer L = 16,
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1,
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
    localparam integer BA = L * K * (1 + EWA + MWA);
    localparam integer BB = L * K * (1 + EWB + MWB);
    localparam integer IW = BA + BB + 16 * L;
    localparam integer OW = L * (1 + EW + MW);
    wire          s_valid, m_ready;
    wire [IW-1:0] s_data;
    /* verilator lint_off UNUSEDSIGNAL */
    wire          s_last;    // every beat is one block per lane; results are not grouped
    /* verilator lint_on UNUSEDSIGNAL */
    wire [OW-1:0] y;
    reg           r_valid;
    reg  [OW-1:0] r_y;
    // a one-entry output register; the source only advances when it is free or being emptied
    wire          s_ready = !r_valid || m_ready;
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) r_valid <= 1'b0;
        else if (s_ready) r_valid <= s_valid;
    end
    always @(posedge clk) if (s_ready && s_valid) r_y <= y;
    mx_player #(.IW(IW), .OW(OW), .DEPTH(DEPTH)) u_play (
        .clk(clk), .rst_n(rst_n), .go(go), .stall(stall), .n_beats(n_beats), .n_res(n_res),
        .done(done), .timeout(timeout), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .s_last(s_last), .m_valid(r_valid), .m_ready(m_ready), .m_data(r_y));
    mx_block_value_lanes #(.L(L), .K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB),
                           .SPB(SPB), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_dut (
        .a(s_data[0 +: BA]), .b(s_data[BA +: BB]), .sa(s_data[BA+BB +: 8*L]),
        .sb(s_data[BA+BB+8*L +: 8*L]), .y(y));
endmodule
