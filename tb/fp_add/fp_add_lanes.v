// Testbench-only wrapper: LANES independent fp_add instances on packed buses, so one clock edge
// checks LANES vectors (cocotb's per-cycle overhead dominates otherwise).
module fp_add_lanes #(
    parameter integer EW = 5,
    parameter integer MW = 2,
    parameter integer SPECIAL = 0,
    parameter integer OVF = 1,
    parameter integer LATENCY = 0,
    parameter integer LANES = 64
) (
    input  wire                        clk,
    input  wire                        rst_n,
    input  wire [LANES*(EW+MW+1)-1:0]  a,
    input  wire [LANES*(EW+MW+1)-1:0]  b,
    output wire [LANES*(EW+MW+1)-1:0]  y
);
  localparam integer B = EW + MW + 1;
  genvar i;
  generate
    for (i = 0; i < LANES; i = i + 1) begin : g_lane
      fp_add #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .LATENCY(LATENCY)) u_add (
          .clk(clk), .rst_n(rst_n), .a(a[i*B +: B]), .b(b[i*B +: B]), .y(y[i*B +: B]));
    end
  endgenerate
endmodule
