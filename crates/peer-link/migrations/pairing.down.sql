DROP TABLE pairing_keys;
