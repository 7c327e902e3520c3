-- API keys of frontends (scoped to channels) and staff (with a role), stored hashed,
-- and the credentials vault (AES-GCM ciphertext; destroyed when the ticket is resolved).

CREATE TABLE api_keys (
    key_id       text        PRIMARY KEY,          -- public part, shown in listings and logs
    name         text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('frontend', 'staff')),
    channels     text[]      NOT NULL DEFAULT '{}',  -- frontends: where they may post
    role         text        CHECK (role IN ('agent', 'supervisor', 'admin')),
    secret_hash  text        NOT NULL,             -- sha256 of the secret part
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((kind = 'staff') = (role IS NOT NULL))
);

CREATE TABLE credentials (
    ref          text        PRIMARY KEY,
    tid          text        NOT NULL REFERENCES tickets (tid),
    kinds        text[]      NOT NULL,
    key_id       text        NOT NULL,             -- which vault key encrypted it (rotation)
    nonce        bytea       NOT NULL,
    ciphertext   bytea       NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credentials_tid ON credentials (tid);

ALTER TABLE tickets ADD COLUMN rating smallint, ADD COLUMN rating_comment text;
ALTER TABLE foreign_events ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();
-- The version the data was written in, so a projection rebuild can upcast it.
ALTER TABLE foreign_events ADD COLUMN schema_version integer NOT NULL DEFAULT 1;
