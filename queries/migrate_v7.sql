-- v7: each comment keeps the line of its source it was read from (`report flagged` names source and line).
-- Rows stored before v7 have NULL there.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS line_no BIGINT
