-- The customer directory and the classifier's decisions.

CREATE TABLE licenses (
    license_key      text        PRIMARY KEY,
    edition          text        NOT NULL,
    owner            text        NOT NULL,
    emails           text[]      NOT NULL DEFAULT '{}',   -- registered addresses, lower case
    group_emails     text[]      NOT NULL DEFAULT '{}',   -- its commercial user group
    partner          boolean     NOT NULL DEFAULT false,
    purchase_date    date        NOT NULL,
    support_end      date,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE classifications (
    tid              text        PRIMARY KEY,
    level            text        NOT NULL,
    severity         text,
    category         text        NOT NULL,
    in_scope         boolean     NOT NULL,
    entitlement      text        NOT NULL,
    urgent           boolean     NOT NULL,
    license_key      text,
    policy_version   text        NOT NULL,
    reasons          jsonb       NOT NULL,
    classified_at    timestamptz NOT NULL
);
