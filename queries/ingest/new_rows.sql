-- The first half of landing one mapped batch (registered Arrow table `mapped`): its rejects, and which of its
-- rows are new (land_batch.sql writes them, in the same transaction).
INSERT INTO rejects
SELECT $run_id, source, line_no, reason, left(record, 65536) FROM mapped WHERE outcome = 'reject';

-- The rows (`mapped.row`) that are new: first_of_id, the chunk's first 'ok' row of each (platform, id), marked by
-- the mapper (landing.first_of_id), and not stored yet. Only their positions are kept: copying the rows
-- themselves into a temp table cost a third of the landing.
CREATE OR REPLACE TEMP TABLE new_rows AS
SELECT f.row
FROM mapped f
ANTI JOIN comments c ON c.platform = f.platform AND c.id = f.id
WHERE f.first_of_id;
