-- Every policy the classifier has run with, by version: written at start when the version
-- is new, so a classification's policy_version can always be looked up later.
CREATE TABLE policy_versions (
    version        text        PRIMARY KEY,
    document       jsonb       NOT NULL,   -- the policy and classification rules, as GET /v1/policy
    first_used_at  timestamptz NOT NULL
);
