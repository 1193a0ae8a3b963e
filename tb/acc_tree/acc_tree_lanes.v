// Testbench-only wrapper: for each scheme 0..5, LANES acc_tree instances of N inputs; lane i reads
// in_data[i*N*AW +: N*AW].  Outputs are scheme-major: instance j = scheme*LANES + lane.
module acc_tree_lanes #(
    parameter integer EW = 4, parameter integer MW = 3, parameter integer SPECIAL = 1, parameter integer OVF = 2,
    parameter integer CEW = 4, parameter integer CMW = 3, parameter integer CSPECIAL = 1, parameter integer COVF = 2,
    parameter integer N = 3,
    parameter integer LANES = 1
) (
    input  wire                               clk,
    input  wire                               rst_n,
    input  wire                               in_valid,
    input  wire [LANES*N*(EW+MW+1)-1:0]       in_data,
    output wire [6*LANES-1:0]                 out_valid,
    output wire [6*LANES*(EW+MW+1)-1:0]       out_data,
    output wire [6*LANES*(EW+MW+1)-1:0]       out_s,
    output wire [6*LANES*(CEW+CMW+1)-1:0]     out_c1,
    output wire [6*LANES*(CEW+CMW+1)-1:0]     out_c2
);
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  genvar sc, ln;
  generate
    for (sc = 0; sc < 6; sc = sc + 1) begin : g_scheme
      for (ln = 0; ln < LANES; ln = ln + 1) begin : g_lane
        localparam integer J = sc * LANES + ln;
        acc_tree #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                   .COVF(COVF), .SCHEME(sc), .N(N)) u_tree (
            .clk(clk), .rst_n(rst_n), .in_valid(in_valid), .in_data(in_data[ln*N*AW +: N*AW]),
            .out_valid(out_valid[J]), .out_data(out_data[J*AW +: AW]), .out_s(out_s[J*AW +: AW]),
            .out_c1(out_c1[J*CW +: CW]), .out_c2(out_c2[J*CW +: CW]));
      end
    end
  endgenerate
endmodule
