// Elaboration-time legality check of a floating-point format, shared by every fp_/acc_ module.
// Same rules as golden.formats.FloatFormat (bias fixed at 2^(EW-1)-1):
//   EW 1..8, MW 1..23; SPECIAL 0 ieee (EW >= 2), 1 fn, 2 finite; OVF 0 saturate, 1 inf (ieee only),
//   2 nan (ieee or fn).  An illegal set instantiates a module that does not exist, which every tool
//   (Verilator, Icarus, Yosys) reports with the module name below as the error message.
module fp_param_check #(
    parameter integer EW = 8,
    parameter integer MW = 23,
    parameter integer SPECIAL = 0,
    parameter integer OVF = 1
) ();
  generate
    if (EW < 1 || EW > 8) begin : g_bad_ew
      ILLEGAL_PARAMETER_EW_must_be_1_to_8 u_err ();
    end
    if (MW < 1 || MW > 23) begin : g_bad_mw
      ILLEGAL_PARAMETER_MW_must_be_1_to_23 u_err ();
    end
    if (SPECIAL < 0 || SPECIAL > 2) begin : g_bad_special
      ILLEGAL_PARAMETER_SPECIAL_must_be_0_ieee_1_fn_2_finite u_err ();
    end
    if (OVF < 0 || OVF > 2) begin : g_bad_ovf
      ILLEGAL_PARAMETER_OVF_must_be_0_saturate_1_inf_2_nan u_err ();
    end
    if (SPECIAL == 0 && EW < 2) begin : g_bad_ieee_ew
      ILLEGAL_PARAMETER_SPECIAL_ieee_needs_EW_at_least_2 u_err ();
    end
    if (OVF == 1 && SPECIAL != 0) begin : g_bad_inf
      ILLEGAL_PARAMETER_OVF_inf_needs_SPECIAL_ieee u_err ();
    end
    if (OVF == 2 && SPECIAL == 2) begin : g_bad_nan
      ILLEGAL_PARAMETER_OVF_nan_needs_SPECIAL_ieee_or_fn u_err ();
    end
  endgenerate
endmodule
