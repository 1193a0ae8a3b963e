// Normalise and round a fixed-point value  (-1)^sign * mag * 2^xexp  ONCE (round to nearest even,
// gradual underflow) into a float format, applying that format's overflow policy.  Combinational.
// Rounding is done in "code space": for a chosen result quantum 2^q the magnitude code is
// ((q - qmin) << MW) + rounded_significand, which is exact for subnormals, normals, and a carry out
// of the significand; overflow is then one compare against the largest finite code.
module mx_fix2float #(
    parameter integer W = 32,       // magnitude width, 1..1024
    parameter integer XW = 12,      // width of the signed exponent input, 2..24
    parameter integer EW = 8,       // destination exponent bits, 1..8
    parameter integer MW = 23,      // destination mantissa bits, 1..23
    parameter integer SPECIAL = 0,  // 0 ieee, 1 fn, 2 finite
    parameter integer OVF = 1       // 0 saturate, 1 inf (ieee only), 2 nan (ieee or fn)
) (
    input  wire                 sign,
    input  wire [W-1:0]         mag,
    input  wire signed [XW-1:0] xexp,   // exponent of mag's LSB
    input  wire                 nan,    // force NaN (no NaN in a 'finite' format: +max instead)
    output reg  [EW+MW:0]       y
);
    generate
        if (W < 1 || W > 1024) begin : g_bad_W_must_be_1_to_1024 mx_param_error_W_must_be_1_to_1024 u_err(); end
        if (XW < 2 || XW > 24) begin : g_bad_XW_must_be_2_to_24 mx_param_error_XW_must_be_2_to_24 u_err(); end
        if (EW < 1 || EW > 8) begin : g_bad_EW_must_be_1_to_8 mx_param_error_EW_must_be_1_to_8 u_err(); end
        if (MW < 1 || MW > 23) begin : g_bad_MW_must_be_1_to_23 mx_param_error_MW_must_be_1_to_23 u_err(); end
        if (SPECIAL < 0 || SPECIAL > 2 || (SPECIAL == 0 && EW < 2))
            begin : g_bad_SPECIAL_must_be_0_ieee_1_fn_2_finite_and_ieee_needs_EW_ge_2 mx_param_error_SPECIAL_must_be_0_ieee_1_fn_2_finite_and_ieee_needs_EW_ge_2 u_err(); end
        if (OVF < 0 || OVF > 2 || (OVF == 1 && SPECIAL != 0) || (OVF == 2 && SPECIAL == 2))
            begin : g_bad_OVF_must_be_0_saturate_1_inf_for_ieee_2_nan_for_ieee_or_fn mx_param_error_OVF_must_be_0_saturate_1_inf_for_ieee_2_nan_for_ieee_or_fn u_err(); end
    endgenerate

    localparam integer BIAS = (1 << (EW - 1)) - 1;
    localparam integer EMIN = 1 - BIAS;
    localparam integer WE = W + MW + 1;             // mag with MW+1 guard zeros below it
    localparam [63:0] ONE = 64'd1;
    localparam [63:0] MAXC = (SPECIAL == 0) ? (((ONE << EW) - 2) << MW) | ((ONE << MW) - 1)
                           : (SPECIAL == 1) ? (ONE << (EW + MW)) - 2
                           : (ONE << (EW + MW)) - 1;
    localparam [63:0] INFC = ((ONE << EW) - 1) << MW;
    localparam [63:0] NANC = (SPECIAL == 0) ? INFC | (ONE << (MW - 1)) : (ONE << (EW + MW)) - 1;

    integer            j;
    reg signed [31:0]  msb, ev, q, tm1;
    reg [WE-1:0]       ext, low;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [WE-1:0]       shr;             // only bits MW+1..0 can be set (the result significand)
    /* verilator lint_on UNUSEDSIGNAL */
    reg                rb, sticky;
    reg [MW+1:0]       rsig;
    reg [63:0]         code;

    always @* begin
        msb = 0;
        for (j = 0; j < W; j = j + 1)
            if (mag[j]) msb = j;
        ev = $signed({{(32-XW){xexp[XW-1]}}, xexp}) + msb;     // exponent of the leading one
        q = ((ev > EMIN) ? ev : EMIN) - MW;                  // quantum of the result
        // bits of ext below position tm1 are dropped; bit tm1 becomes the significand LSB's half
        tm1 = q - $signed({{(32-XW){xexp[XW-1]}}, xexp}) + MW;
        if (tm1 < 0) tm1 = 0;                                // only when mag == 0
        if (tm1 > WE) tm1 = WE;
        ext = {mag, {(MW + 1){1'b0}}};
        shr = ext >> tm1;
        low = ext & ~({WE{1'b1}} << tm1);
        rb = shr[0];
        sticky = |low;
        rsig = {1'b0, shr[MW+1:1]} + {{(MW+1){1'b0}}, rb & (sticky | shr[1])};
        code = ({32'd0, q - (EMIN - MW)} << MW) + {{(62-MW){1'b0}}, rsig};
        if (nan)
            y = (SPECIAL == 2) ? {1'b0, MAXC[EW+MW-1:0]} : {1'b0, NANC[EW+MW-1:0]};
        else if (mag == {W{1'b0}})
            y = {(EW + MW + 1){1'b0}};
        else if (code > MAXC)
            y = (OVF == 0) ? {sign, MAXC[EW+MW-1:0]}
              : (OVF == 1) ? {sign, INFC[EW+MW-1:0]}
              : {1'b0, NANC[EW+MW-1:0]};
        else
            y = {sign, code[EW+MW-1:0]};
    end
endmodule
