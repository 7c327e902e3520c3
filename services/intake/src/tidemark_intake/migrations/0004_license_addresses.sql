-- A license's registered addresses as the classifier's directory records them
-- (license.recorded), for threading mail: a [TID-n] reply from one of them is appended.
CREATE TABLE license_addresses (
    license_key  text NOT NULL,
    email        text NOT NULL,          -- lower case
    PRIMARY KEY (license_key, email)
);
CREATE INDEX license_addresses_email ON license_addresses (email);
