-- Repetition score (0-1) of each reply: similarity to earlier replies of its conversation and session.
ALTER TABLE session_messages ADD COLUMN repetition_score DOUBLE PRECISION;
