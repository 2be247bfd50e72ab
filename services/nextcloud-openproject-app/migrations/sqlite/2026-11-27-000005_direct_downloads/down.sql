DROP TABLE direct_downloads;
