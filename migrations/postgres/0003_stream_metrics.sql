-- Streaming metrics per exchange (SSE, gRPC server streaming, chunked WebSocket replies) and the
-- partial text of a stream that broke off.
ALTER TABLE session_messages ADD COLUMN ttft_ms BIGINT;
ALTER TABLE session_messages ADD COLUMN chunk_count BIGINT;
ALTER TABLE session_messages ADD COLUMN inter_chunk_mean_ms BIGINT;
ALTER TABLE session_messages ADD COLUMN inter_chunk_max_ms BIGINT;
ALTER TABLE session_messages ADD COLUMN partial TEXT;
