DROP TABLE pairing_codes;
DROP TABLE pairing_keys;
