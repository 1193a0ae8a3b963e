// Streaming sequential accumulator: one element per cycle through golden's recurrence (acc_step),
// `s_last` closes a sum; the finalised result and final state appear on the m_ side one cycle later
// and are held until m_ready.  SCHEME: 0 naive, 1 kahan, 2 neumaier, 3 twosum, 4 fasttwosum, 5 klein.
// Throughput: 1 element/cycle, back-to-back sums with no bubble; s_ready = !m_valid || m_ready, so only
// a held (back-pressured) result stalls the input.  Latency: last element -> m_valid: 1 cycle.
// m_s/m_c1/m_c2: final state (kahan/neumaier/twosum/fasttwosum c in m_c1; klein cs in m_c1, ccs in m_c2).
module acc_seq #(
    parameter integer EW = 8, parameter integer MW = 7, parameter integer CEW = 8, parameter integer CMW = 7,
    parameter integer SPECIAL = 0, parameter integer OVF = 1, parameter integer CSPECIAL = 0, parameter integer COVF = 1,
    parameter integer SCHEME = 0
) (
    input  wire              clk,
    input  wire              rst_n,
    input  wire              s_valid,
    output wire              s_ready,
    input  wire [EW+MW:0]    s_data,
    input  wire              s_last,
    output reg               m_valid,
    input  wire              m_ready,
    output reg  [EW+MW:0]    m_data,
    output reg  [EW+MW:0]    m_s,
    output reg  [CEW+CMW:0]  m_c1,
    output reg  [CEW+CMW:0]  m_c2
);
  localparam integer AW = EW + MW + 1;
  localparam integer CW = CEW + CMW + 1;
  reg  [AW-1:0] st_s;
  reg  [CW-1:0] st_c1, st_c2;
  wire [AW-1:0] nx_s, fin;
  wire [CW-1:0] nx_c1, nx_c2;

  acc_step #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
             .COVF(COVF), .SCHEME(SCHEME)) u_step (
      .s(st_s), .c1(st_c1), .c2(st_c2), .x(s_data), .ns(nx_s), .nc1(nx_c1), .nc2(nx_c2));
  acc_final #(.EW(EW), .MW(MW), .SPECIAL(SPECIAL), .OVF(OVF), .CEW(CEW), .CMW(CMW), .CSPECIAL(CSPECIAL),
              .COVF(COVF), .SCHEME(SCHEME)) u_fin (.s(nx_s), .c1(nx_c1), .c2(nx_c2), .y(fin));

  assign s_ready = ~m_valid | m_ready;
  wire take = s_valid & s_ready;

  always @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      st_s <= {AW{1'b0}};
      st_c1 <= {CW{1'b0}};
      st_c2 <= {CW{1'b0}};
      m_valid <= 1'b0;
      m_data <= {AW{1'b0}};
      m_s <= {AW{1'b0}};
      m_c1 <= {CW{1'b0}};
      m_c2 <= {CW{1'b0}};
    end else begin
      if (m_valid && m_ready) m_valid <= 1'b0;
      if (take) begin
        if (s_last) begin
          // the zero state (+0) starts the next sum
          st_s <= {AW{1'b0}};
          st_c1 <= {CW{1'b0}};
          st_c2 <= {CW{1'b0}};
          m_valid <= 1'b1;
          m_data <= fin;
          m_s <= nx_s;
          m_c1 <= nx_c1;
          m_c2 <= nx_c2;
        end else begin
          st_s <= nx_s;
          st_c1 <= nx_c1;
          st_c2 <= nx_c2;
        end
      end
    end
  end
endmodule
