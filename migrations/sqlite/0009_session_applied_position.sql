-- Idempotent session counters: the sessions projection records the position of the last event
-- it applied to a row and skips any event at or before it, so replaying an event (the Projection
-- contract allows it) never counts a reply twice or reopens a finished session.
ALTER TABLE sessions ADD COLUMN applied_position BIGINT NOT NULL DEFAULT 0;
