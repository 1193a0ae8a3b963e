// Exact sum of the K element products of one MX block, in two's complement fixed point.
// sum * 2^(LSBA + LSBB) is the block's unscaled value, where LSB = emin - MW for float elements and
// 1 - MW for integer (MXINT, EW = 0) elements: a decoded element is (-1)^s * sig * 2^(sh + LSB) with
// sig = {hidden bit, mantissa} and sh = max(exponent field, 1) - 1, so every product is an integer
// sig_a*sig_b shifted left by sh_a + sh_b.  Nothing is rounded: SW is the worst case
// K * max|a| * max|b| plus a sign bit.  Combinational; the products are summed by a balanced tree
// (heap order: node i = node 2i+1 + node 2i+2, leaves K-1 .. 2K-2).  The datapath is written as one
// always block over flat vectors rather than K generate instances, which keeps simulation models
// (and their build time) small.
module mx_block_sum #(
    parameter integer K = 32,       // block size, power of two 2..64
    parameter integer EWA = 4,      // element format of a: EW 0 = MXINT (two's complement on MW+1 bits)
    parameter integer MWA = 3,      //   or EW 1..5 float; MW 1..10
    parameter integer SPA = 1,      //   special policy: 0 ieee, 1 fn, 2 finite
    parameter integer EWB = 4,      // element format of b
    parameter integer MWB = 3,
    parameter integer SPB = 1,
    // derived; do not override
    parameter integer SHA = (EWA == 0) ? 0 : (1 << EWA) - 2,   // largest exponent shift of an a
    parameter integer SHB = (EWB == 0) ? 0 : (1 << EWB) - 2,
    parameter integer PW  = MWA + MWB + 2 + SHA + SHB,          // product magnitude width
    parameter integer SW  = PW + $clog2(K) + 1                  // signed block-sum width
) (
    input  wire [K*(1+EWA+MWA)-1:0] a,      // element i at bits [i*(1+EWA+MWA) +: 1+EWA+MWA]
    input  wire [K*(1+EWB+MWB)-1:0] b,
    output wire [SW-1:0]            sum,    // signed
    output wire                     nan     // some element code is NaN or Inf (ieee / fn formats)
);
    localparam integer BA = 1 + EWA + MWA;
    localparam integer BB = 1 + EWB + MWB;

    generate
        if (K < 2 || K > 64 || (K & (K - 1)) != 0) begin : g_bad_k
            mx_param_error_K_must_be_power_of_two_2_to_64 u_err();
        end
        if (EWA < 0 || EWA > 5 || EWB < 0 || EWB > 5) begin : g_bad_ew
            mx_param_error_EWA_EWB_must_be_0_int_or_1_to_5 u_err();
        end
        if (MWA < 1 || MWA > 10 || MWB < 1 || MWB > 10) begin : g_bad_mw
            mx_param_error_MWA_MWB_must_be_1_to_10 u_err();
        end
        if (SPA < 0 || SPA > 2 || SPB < 0 || SPB > 2 || (SPA == 0 && EWA == 1) || (SPB == 0 && EWB == 1))
        begin : g_bad_sp
            mx_param_error_SPA_SPB_must_be_0_ieee_1_fn_2_finite_and_ieee_needs_EW_ge_2 u_err();
        end
        if (PW + $clog2(K) + 1 != SW || SHA != ((EWA == 0) ? 0 : (1 << EWA) - 2)
            || SHB != ((EWB == 0) ? 0 : (1 << EWB) - 2) || PW != MWA + MWB + 2 + SHA + SHB) begin : g_bad_derived
            mx_param_error_derived_parameters_SHA_SHB_PW_SW_must_not_be_overridden u_err();
        end
    endgenerate

    // one element code -> {nan, sign, sh[5:0], sig[10:0]} (sig = hidden bit + mantissa, or |q|)
    function automatic [18:0] decode(input [15:0] code, input integer ew, input integer mw, input integer sp);
        reg        s, nn;
        /* verilator lint_off UNUSEDSIGNAL */
        reg [15:0] ew16;    // only EW <= 5 bits can be set
        /* verilator lint_on UNUSEDSIGNAL */
        reg [5:0]  ef, sh;
        reg [10:0] mf, sg;
        begin
            s = code[ew + mw];
            mf = code[10:0] & ((11'd1 << mw) - 11'd1);
            ew16 = (code >> mw) & ((16'd1 << ew) - 16'd1);
            ef = ew16[5:0];
            if (ew == 0) begin
                // two's complement q on mw+1 bits; |q| = 2^mw only for the unused code -2^mw
                sg = s ? (11'd1 << mw) - mf : mf;
                sh = 6'd0;
                nn = 1'b0;
            end else begin
                sg = (ef != 6'd0) ? mf | (11'd1 << mw) : mf;
                sh = (ef != 6'd0) ? ef - 6'd1 : 6'd0;
                nn = (sp == 0) ? (ef == (6'd1 << ew) - 6'd1)
                   : (sp == 1) ? (ef == (6'd1 << ew) - 6'd1) && (mf == (11'd1 << mw) - 11'd1)
                   : 1'b0;
            end
            decode = {nn, s, sh, sg};
        end
    endfunction

    localparam integer XW = ((SW > 22) ? SW : 22) + 1;
    integer         i;
    reg [18:0]      da, db;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [XW-1:0]    wide;       // bits above SW are always zero (SW bounds every product)
    /* verilator lint_on UNUSEDSIGNAL */
    reg [SW-1:0]    mag;
    reg [SW*(2*K-1)-1:0] node;
    reg [K-1:0]     nan_i;

    always @* begin
        node = {(SW*(2*K-1)){1'b0}};
        for (i = 0; i < K; i = i + 1) begin
            da = decode({{(16-BA){1'b0}}, a[i*BA +: BA]}, EWA, MWA, SPA);
            db = decode({{(16-BB){1'b0}}, b[i*BB +: BB]}, EWB, MWB, SPB);
            // exact product sig_a * sig_b (<= 22 bits) placed at its binade
            wide = {{(XW-22){1'b0}}, {11'd0, da[10:0]} * {11'd0, db[10:0]}} << (da[16:11] + db[16:11]);
            mag = wide[SW-1:0];
            node[(K-1+i)*SW +: SW] = (da[17] ^ db[17]) ? -mag : mag;
            nan_i[i] = da[18] | db[18];
        end
        for (i = K - 2; i >= 0; i = i - 1)
            node[i*SW +: SW] = node[(2*i+1)*SW +: SW] + node[(2*i+2)*SW +: SW];
    end

    assign sum = node[SW-1:0];
    assign nan = |nan_i;
endmodule
