// Testbench-only wrapper: L independent mx_block_value lanes (combinational), packed lane-major.
module mx_block_value_lanes #(
    parameter integer L = 16,
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1
) (
    input  wire [L*K*(1+EWA+MWA)-1:0] a,
    input  wire [L*K*(1+EWB+MWB)-1:0] b,
    input  wire [L*8-1:0]             sa,
    input  wire [L*8-1:0]             sb,
    output wire [L*(1+EW+MW)-1:0]     y
);
    localparam integer BA = K * (1 + EWA + MWA);
    localparam integer BB = K * (1 + EWB + MWB);
    localparam integer BY = 1 + EW + MW;
    genvar i;
    generate
        for (i = 0; i < L; i = i + 1) begin : g_lane
            mx_block_value #(.K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB),
                             .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_bv (
                .a(a[i*BA +: BA]), .b(b[i*BB +: BB]), .sa(sa[i*8 +: 8]), .sb(sb[i*8 +: 8]),
                .y(y[i*BY +: BY]));
        end
    endgenerate
endmodule
