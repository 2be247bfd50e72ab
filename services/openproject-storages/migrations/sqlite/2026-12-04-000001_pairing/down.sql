DROP TABLE pairing_peers;
DROP TABLE pairing_codes;
