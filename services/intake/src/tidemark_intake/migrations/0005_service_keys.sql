-- A third key kind: the other Tidemark services' own keys (they open POST /v1/introspect
-- and nothing else). Widening a CHECK only adds: old rows stay valid.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind_check
    CHECK (kind IN ('frontend', 'staff', 'service'));
