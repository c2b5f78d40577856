-- What each request carried (conversation history): messages and estimated tokens, and how long
-- the exchange waited before it was sent (rate limiter, 429 back-off, late open-model start).
ALTER TABLE session_messages ADD COLUMN context_messages BIGINT;
ALTER TABLE session_messages ADD COLUMN context_tokens BIGINT;
ALTER TABLE session_messages ADD COLUMN wait_ms BIGINT;
-- A target's node-wide rate limit (`rateLimit` JSON), shown by the API and the target pages.
ALTER TABLE targets ADD COLUMN rate_limit TEXT;
-- Cost of each reply at the session's frozen model price.
ALTER TABLE session_messages ADD COLUMN cost DOUBLE PRECISION;
-- Model prices set through PUT /api/pricing (defaults live in code).
CREATE TABLE model_prices (
    model           TEXT PRIMARY KEY,
    input_per_mtok  DOUBLE PRECISION NOT NULL,
    output_per_mtok DOUBLE PRECISION NOT NULL,
    currency        TEXT NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    position        BIGINT NOT NULL
);
