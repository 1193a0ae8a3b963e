// Testbench-only stimulus player / result recorder for the MX testbenches (not synthesised).
//
// Why: driving a wide valid/ready stream from cocotb costs several VPI round trips per clock; under
// Icarus that was ~20x the simulation itself (50 ms per clock vs 2.4 ms).  Here cocotb writes a whole
// chunk of input beats to a hex file once, pulses `go`, and waits for `done`; this module streams the
// beats at full rate (or with pseudo-random valid/ready gaps when `stall` = 1), captures every result
// and writes them to a hex file.  Python work per vector is a few numpy operations, not a VPI call.
//
// Files (relative to the simulator's working directory, which is also cocotb's):
//   mx_beats.hex   n_beats lines, {last, payload[IW-1:0]} in hex
//   mx_res.hex     n_res lines, the m_data words in arrival order (written when done rises)
module mx_player #(
    parameter integer IW = 8,        // payload width (s_data)
    parameter integer OW = 8,        // result width (m_data)
    parameter integer DEPTH = 1024   // most beats (and results) per chunk
) (
    input  wire          clk,
    input  wire          rst_n,
    input  wire          go,         // sampled at posedge: load mx_beats.hex and start a chunk
    input  wire          stall,      // 1: random valid and ready gaps (25 % each)
    input  wire [31:0]   n_beats,    // beats in this chunk (<= DEPTH)
    input  wire [31:0]   n_res,      // results expected from this chunk (<= DEPTH)
    output reg           done,       // rises when the chunk's results are in mx_res.hex
    output reg           timeout,    // with done: the results did not arrive in time
    // towards the DUT
    output wire          s_valid,
    input  wire          s_ready,
    output wire [IW-1:0] s_data,
    output wire          s_last,
    input  wire          m_valid,
    output wire          m_ready,
    input  wire [OW-1:0] m_data
);
    reg [IW:0]   mem_in  [0:DEPTH-1];
    reg [OW-1:0] mem_out [0:DEPTH-1];
    reg          running;
    reg [31:0]   ip, op, cyc;
    reg [31:0]   lfsr;           // Galois LFSR x^32 + x^22 + x^2 + x + 1: gap pattern when stalling

    wire         have = running && (ip < n_beats);
    wire [IW:0]  cur  = mem_in[ip];   // ip < n_beats <= DEPTH while `have`
    assign s_valid = have && !(stall && lfsr[1:0] == 2'b00);
    assign s_data  = cur[IW-1:0];
    assign s_last  = cur[IW];
    assign m_ready = running && (op < n_res) && !(stall && lfsr[5:4] == 2'b00);

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            running <= 1'b0;
            done    <= 1'b0;
            timeout <= 1'b0;
            ip      <= 32'd0;
            op      <= 32'd0;
            cyc     <= 32'd0;
            lfsr    <= 32'hACE1_2345;
        end else if (go && !running) begin
            $readmemh("mx_beats.hex", mem_in, 0, n_beats - 1);
            running <= 1'b1;
            done    <= 1'b0;
            timeout <= 1'b0;
            ip      <= 32'd0;
            op      <= 32'd0;
            cyc     <= 32'd0;
        end else if (running) begin
            cyc  <= cyc + 32'd1;
            lfsr <= lfsr[0] ? ((lfsr >> 1) ^ 32'h8020_0003) : (lfsr >> 1);
            if (s_valid && s_ready) ip <= ip + 32'd1;
            if (m_valid && m_ready) begin
                mem_out[op] <= m_data;         // op < n_res <= DEPTH
                op <= op + 32'd1;
            end
            // finish one cycle after the last result was stored (mem_out is then up to date);
            // a chunk that takes more than 16 cycles per beat plus 1000 is declared stuck
            if (op == n_res || cyc > 16 * (n_beats + n_res) + 1000) begin
                if (n_res != 0) $writememh("mx_res.hex", mem_out, 0, n_res - 1);
                timeout <= (op != n_res);
                running <= 1'b0;
                done    <= 1'b1;
            end
        end
    end
endmodule
