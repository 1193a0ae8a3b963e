// Streaming exact (Kulisch) accumulator: every element (already in format EW, MW, SPECIAL) is added
// into a two's complement fixed-point register counted in units of the format's smallest subnormal
// 2^(EMIN-MW); nothing is ever rounded until `s_last`, when fp_round rounds the exact sum once (RNE,
// overflow policy OVF).  Register width = MW + MAXEF (largest finite magnitude) + clog2(MAXLEN+1) + 1
// sign bit, so up to MAXLEN elements per sum cannot overflow it (more is not detected: keep sums
// <= MAXLEN).  Non-finite elements follow golden: NaN or +Inf and -Inf -> NaN, else +-Inf through the
// overflow policy.  An exact zero sum is +0 (as golden's kulisch).
// Handshake and timing as acc_seq: 1 element/cycle, result 1 cycle after the last element.
module acc_kulisch_seq #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer SPECIAL = 0, parameter integer OVF = 1,
    parameter integer MAXLEN = 4096
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire            s_valid,
    output wire            s_ready,
    input  wire [EW+MW:0]  s_data,
    input  wire            s_last,
    output reg             m_valid,
    input  wire            m_ready,
    output reg  [EW+MW:0]  m_data
);
  fp_param_check #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF)) u_chk ();
  generate
    if (MAXLEN < 1 || MAXLEN > (1 << 24)) begin : g_bad_maxlen
      ILLEGAL_PARAMETER_MAXLEN_must_be_1_to_2pow24 u_err ();
    end
  endgenerate

  localparam integer BIAS = (1 << (EW - 1)) - 1;
  localparam integer EMIN = 1 - BIAS;
  localparam integer MAXEF = (SPECIAL == 0) ? (1 << EW) - 2 : (1 << EW) - 1;
  localparam integer MAGW = MW + MAXEF;         // |largest finite| / 2^(EMIN-MW) < 2^MAGW
  localparam integer FW = MAGW + $clog2(MAXLEN + 1) + 1;
  // lint waiver: EMIN - MW >= -150 fits 12 bits
  // verilator lint_off WIDTHTRUNC
  localparam signed [11:0] QEXP = EMIN - MW;
  // verilator lint_on WIDTHTRUNC

  wire sgn = s_data[EW+MW];
  wire [EW-1:0] ef = s_data[EW+MW-1:MW];
  wire [MW-1:0] mf = s_data[MW-1:0];
  wire top = &ef;
  wire is_nan = (SPECIAL == 0) ? (top & |mf) : (SPECIAL == 1) ? (top & &mf) : 1'b0;
  wire is_inf = (SPECIAL == 0) ? (top & ~|mf) : 1'b0;
  wire [EW-1:0] sh = (ef == {EW{1'b0}}) ? {EW{1'b0}} : ef - 1'b1;
  wire [FW-1:0] sig = {{(FW - MW - 1) {1'b0}}, |ef, mf};
  wire [FW-1:0] mag = (is_nan | is_inf) ? {FW{1'b0}} : (sig << sh);
  wire [FW-1:0] term = sgn ? (~mag + 1'b1) : mag;

  reg  [FW-1:0] acc;
  reg           f_nan, f_pinf, f_ninf;
  wire [FW-1:0] nx = acc + term;
  wire nx_nan = f_nan | is_nan;
  wire nx_pinf = f_pinf | (is_inf & ~sgn);
  wire nx_ninf = f_ninf | (is_inf & sgn);
  wire neg = nx[FW-1];
  wire [FW-1:0] absx = neg ? (~nx + 1'b1) : nx;
  wire [EW+MW:0] fin;
  fp_round #(.ZW(FW), .EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .SUBEXACT(1)) u_rnd (
      .nan(nx_nan | (nx_pinf & nx_ninf)), .inf(nx_pinf | nx_ninf), .inf_sign(nx_ninf), .sign(neg),
      .z(absx), .zexp(QEXP), .sticky(1'b0), .y(fin));

  assign s_ready = ~m_valid | m_ready;
  wire take = s_valid & s_ready;

  always @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      acc <= {FW{1'b0}};
      f_nan <= 1'b0;
      f_pinf <= 1'b0;
      f_ninf <= 1'b0;
      m_valid <= 1'b0;
      m_data <= {(EW + MW + 1) {1'b0}};
    end else begin
      if (m_valid && m_ready) m_valid <= 1'b0;
      if (take) begin
        if (s_last) begin
          acc <= {FW{1'b0}};
          f_nan <= 1'b0;
          f_pinf <= 1'b0;
          f_ninf <= 1'b0;
          m_valid <= 1'b1;
          m_data <= fin;
        end else begin
          acc <= nx;
          f_nan <= nx_nan;
          f_pinf <= nx_pinf;
          f_ninf <= nx_ninf;
        end
      end
    end
  end
endmodule
