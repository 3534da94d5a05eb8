-- The entity labels stored, for the message that names an unknown one.
SELECT DISTINCT label FROM entities ORDER BY label
