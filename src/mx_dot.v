// Streaming MX dot-product unit: one block (K element pairs + two E8M0 scales) per handshake.
//   level 1: mx_block_value -- exact products, exact fixed-point block sum, scale 2^(sa+sb-254),
//            ONE rounding (RNE) into the accumulator format (EW, MW, SPECIAL, OVF);
//   level 2: the block values are accumulated with SCHEME (0 naive, 1 kahan, 2 neumaier, 3 twosum,
//            4 fasttwosum, 5 klein: acc_seq with compensation format CEW/CMW/CSPECIAL/COVF;
//            6 kulisch: acc_kulisch_seq, exact, MAXLEN blocks at most per dot product).
// Bit-exact with golden.mx.mx_dot(order='sequential').  s_last marks a dot product's final block;
// m_data is that dot product's result in the accumulator format.
// Throughput: one block per cycle into the block register; the accumulator sets the sustained rate
// (acc_seq / acc_kulisch_seq document theirs).  Latency: 1 cycle + the accumulator's.
module mx_dot #(
    parameter integer K = 32,                                       // block size, 2..64, power of 2
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,   // elements a
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,   // elements b
    parameter integer EW = 8,  parameter integer MW = 7,                               // accumulator
    parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer CEW = EW, parameter integer CMW = MW,                            // compensation
    parameter integer CSPECIAL = SPECIAL, parameter integer COVF = OVF,
    parameter integer SCHEME = 0,
    parameter integer MAXLEN = 1024                                 // kulisch only
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire                     s_valid,
    output wire                     s_ready,
    input  wire [K*(1+EWA+MWA)-1:0] s_a,     // element i at bits [i*(1+EWA+MWA) +: 1+EWA+MWA]
    input  wire [K*(1+EWB+MWB)-1:0] s_b,
    input  wire [7:0]               s_sa,    // E8M0 scale codes (255 = NaN)
    input  wire [7:0]               s_sb,
    input  wire                     s_last,
    output wire                     m_valid,
    input  wire                     m_ready,
    output wire [EW+MW:0]           m_data
);
    generate
        if (SCHEME < 0 || SCHEME > 6) begin : g_bad_scheme
            mx_param_error_SCHEME_must_be_0_naive_1_kahan_2_neumaier_3_twosum_4_fasttwosum_5_klein_6_kulisch u_err();
        end
    endgenerate

    wire [EW+MW:0] bval;
    mx_block_value #(.K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB),
                     .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_block (
        .a(s_a), .b(s_b), .sa(s_sa), .sb(s_sb), .y(bval));

    // one register stage between the combinational block datapath and the accumulator
    reg            r_valid, r_last;
    reg [EW+MW:0]  r_data;
    wire           acc_ready;
    assign s_ready = !r_valid || acc_ready;
    always @(posedge clk or negedge rst_n) begin   // asynchronous reset, like acc_seq
        if (!rst_n) begin
            r_valid <= 1'b0;
        end else if (s_ready) begin
            r_valid <= s_valid;
        end
    end
    always @(posedge clk) begin
        if (s_ready && s_valid) begin
            r_data <= bval;
            r_last <= s_last;
        end
    end

    generate
        if (SCHEME == 6) begin : g_kulisch
            acc_kulisch_seq #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .MAXLEN(MAXLEN)) u_acc (
                .clk(clk), .rst_n(rst_n),
                .s_valid(r_valid), .s_ready(acc_ready), .s_data(r_data), .s_last(r_last),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data));
        end else begin : g_seq
            /* verilator lint_off UNUSEDSIGNAL */
            wire [EW+MW:0]   st_s;
            wire [CEW+CMW:0] st_c1, st_c2;   // internal state, not needed by the dot product
            /* verilator lint_on UNUSEDSIGNAL */
            acc_seq #(.EW(EW), .MW(MW), .CEW(CEW), .CMW(CMW), .SPECIAL(SPECIAL), .OVF(OVF),
                      .CSPECIAL(CSPECIAL), .COVF(COVF), .SCHEME(SCHEME)) u_acc (
                .clk(clk), .rst_n(rst_n),
                .s_valid(r_valid), .s_ready(acc_ready), .s_data(r_data), .s_last(r_last),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data),
                .m_s(st_s), .m_c1(st_c1), .m_c2(st_c2));
        end
    endgenerate
endmodule
