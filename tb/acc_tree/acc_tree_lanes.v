// Testbench-only wrapper: LANES acc_tree instances of N inputs per scheme; lane i reads
// in_data[i*N*AW +: N*AW].  SCHEME 0..5 builds that one scheme only (NSC = 1); SCHEME = 6 builds all
// six.  One scheme per build keeps Verilator's C++ for N = 31/32 trees ~6x smaller than the all-scheme
// wrapper (which did not compile within 30 min at N = 31) and lets builds run in parallel.
// Outputs are scheme-major: instance j = k*LANES + lane, k = index among the built schemes.
module acc_tree_lanes #(
    parameter integer EW = 4, parameter integer MW = 3, parameter integer SPECIAL = 1, parameter integer OVF = 2,
    parameter integer CEW = 4, parameter integer CMW = 3, parameter integer CSPECIAL = 1, parameter integer COVF = 2,
    parameter integer N = 3,
    parameter integer LANES = 1,
    parameter integer SCHEME = 6
) (
    input  wire                                   clk,
    input  wire                                   rst_n,
    input  wire                                   in_valid,
    input  wire [LANES*N*(EW+MW+1)-1:0]           in_data,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES-1:0]                   out_valid,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(EW+MW+1)-1:0]         out_data,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(EW+MW+1)-1:0]         out_s,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(CEW+CMW+1)-1:0]       out_c1,
    output wire [((SCHEME == 6) ? 6 : 1)*LANES*(CEW+CMW+1)-1:0]       out_c2
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
        acc_tree #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
                   .COVF(COVF), .SCHEME(SC0 + k), .N(N)) u_tree (
            .clk(clk), .rst_n(rst_n), .in_valid(in_valid), .in_data(in_data[ln*N*AW +: N*AW]),
            .out_valid(out_valid[J]), .out_data(out_data[J*AW +: AW]), .out_s(out_s[J*AW +: AW]),
            .out_c1(out_c1[J*CW +: CW]), .out_c2(out_c2[J*CW +: CW]));
      end
    end
  endgenerate
endmodule
