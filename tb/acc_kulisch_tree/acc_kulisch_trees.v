// Testbench-only wrapper: six acc_kulisch_tree instances of N = 1, 2, 3, 31, 32 and NBIG inputs in one
// build (one build per format instead of six).  Tree j reads in_data[OFF_j*AW +: N_j*AW], with OFF_j
// the sum of the N of the trees before it; out_valid[j] and out_data[j*AW +: AW] are its outputs.
module acc_kulisch_trees #(
    parameter integer EW = 4, parameter integer MW = 3, parameter integer SPECIAL = 1, parameter integer OVF = 2,
    parameter integer NBIG = 1000
) (
    input  wire                              clk,
    input  wire                              rst_n,
    input  wire                              in_valid,
    input  wire [(69+NBIG)*(EW+MW+1)-1:0]    in_data,
    output wire [5:0]                        out_valid,
    output wire [6*(EW+MW+1)-1:0]            out_data
);
  localparam integer AW = EW + MW + 1;
  genvar j;
  generate
    for (j = 0; j < 6; j = j + 1) begin : g_tree
      localparam integer NJ = (j == 0) ? 1 : (j == 1) ? 2 : (j == 2) ? 3 : (j == 3) ? 31 : (j == 4) ? 32 : NBIG;
      localparam integer OJ = (j == 0) ? 0 : (j == 1) ? 1 : (j == 2) ? 3 : (j == 3) ? 6 : (j == 4) ? 37 : 69;
      acc_kulisch_tree #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .N(NJ)) u_tree (
          .clk(clk), .rst_n(rst_n), .in_valid(in_valid), .in_data(in_data[OJ*AW +: NJ*AW]),
          .out_valid(out_valid[j]), .out_data(out_data[j*AW +: AW]));
    end
  endgenerate
endmodule
