-- VIP coupons per license year (spent by a conditional update), allowance overrides,
-- and what a classification needs for overrides and audits.

ALTER TABLE licenses ADD COLUMN coupon_allowance integer CHECK (coupon_allowance >= 0);

ALTER TABLE classifications ADD COLUMN rules_version text;
ALTER TABLE classifications ADD COLUMN submitted_at timestamptz;
ALTER TABLE classifications ADD COLUMN reclassified_at timestamptz;

CREATE TABLE coupon_years (
    license_key  text    NOT NULL,
    year_start   date    NOT NULL,
    allowance    integer NOT NULL CHECK (allowance >= 0),
    remaining    integer NOT NULL CHECK (remaining >= 0),   -- never below zero
    PRIMARY KEY (license_key, year_start)
);

CREATE TABLE coupon_spends (
    tid          text        PRIMARY KEY,                   -- a ticket spends at most one
    license_key  text        NOT NULL,
    year_start   date        NOT NULL,
    spent_at     timestamptz NOT NULL
);
