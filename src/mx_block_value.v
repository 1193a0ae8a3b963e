// One MX block's value in the accumulator format: the exact fixed-point sum of its K element
// products (mx_block_sum) times 2^(sa + sb - 254), rounded ONCE (RNE) by mx_fix2float.
// The scale arithmetic: E8M0 codes sa, sb in 0..254 mean 2^(code - 127), so the product scale is
// 2^(sa + sb - 254), exponent -254..+254; adding the constant LSB exponent of the fixed-point sum
// gives the exponent of the sum's LSB, which always fits in XW = 12 signed bits (|.| < 600), so no
// scale/element combination can wrap: values beyond the accumulator's range overflow by its policy,
// values below it round to zero/subnormals.  Code 255 (E8M0 NaN) in either scale, or a NaN/Inf
// element code, makes the block NaN (ieee/fn accumulators: their NaN code; 'finite' ones have no
// NaN and get +max instead).  Combinational.
module mx_block_value #(
    parameter integer K = 32,
    parameter integer EWA = 4, parameter integer MWA = 3, parameter integer SPA = 1,
    parameter integer EWB = 4, parameter integer MWB = 3, parameter integer SPB = 1,
    parameter integer EW = 8,  parameter integer MW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1
) (
    input  wire [K*(1+EWA+MWA)-1:0] a,
    input  wire [K*(1+EWB+MWB)-1:0] b,
    input  wire [7:0]               sa,     // E8M0 scale codes
    input  wire [7:0]               sb,
    output wire [EW+MW:0]           y       // block value, accumulator format code
);
    localparam integer SHA = (EWA == 0) ? 0 : (1 << EWA) - 2;
    localparam integer SHB = (EWB == 0) ? 0 : (1 << EWB) - 2;
    localparam integer PW  = MWA + MWB + 2 + SHA + SHB;
    localparam integer SW  = PW + $clog2(K) + 1;
    // exponent of the LSB of a decoded element: emin - MW (float), 1 - MW (integer)
    localparam integer LSBA = (EWA == 0) ? 1 - MWA : 2 - (1 << (EWA - 1)) - MWA;
    localparam integer LSBB = (EWB == 0) ? 1 - MWB : 2 - (1 << (EWB - 1)) - MWB;
    localparam integer XW  = 12;
    localparam integer XOFF32 = LSBA + LSBB - 254;
    localparam signed [XW-1:0] XOFF = XOFF32[XW-1:0];

    generate
        // scale range: sa + sb - 254 spans -254..254; with the LSB offset and the sum's width the
        // exponent of any bit of the block sum must fit the signed XW-bit exponent of mx_fix2float
        if (254 - (LSBA + LSBB) + SW >= (1 << (XW - 1)) || 254 + SW >= (1 << (XW - 1))) begin : g_bad_range
            mx_param_error_scale_range_exceeds_XW_bits u_err();
        end
    endgenerate

    wire [SW-1:0] sum;
    wire          enan;
    mx_block_sum #(.K(K), .EWA(EWA), .MWA(MWA), .SPA(SPA), .EWB(EWB), .MWB(MWB), .SPB(SPB)) u_sum (
        .a(a), .b(b), .sum(sum), .nan(enan));

    wire          neg = sum[SW-1];
    wire [SW-1:0] mag = neg ? -sum : sum;
    wire signed [XW-1:0] xexp = $signed({4'd0, sa}) + $signed({4'd0, sb}) + XOFF;
    wire          nan = enan | (&sa) | (&sb);

    mx_fix2float #(.W(SW), .XW(XW), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_round (
        .sign(neg), .mag(mag), .xexp(xexp), .nan(nan), .y(y));
endmodule
