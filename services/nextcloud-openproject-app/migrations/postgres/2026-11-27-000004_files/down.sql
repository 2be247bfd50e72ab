DROP TABLE file_nodes;
