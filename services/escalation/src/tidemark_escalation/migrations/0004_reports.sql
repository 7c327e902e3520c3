-- Placeholder: number 0004 is the reports helper's (issue 20); migrations are numbered 1..n,
-- so the board's 0005 needs a 0004 to exist. At the merge, take the reports branch's file.
SELECT 1;
