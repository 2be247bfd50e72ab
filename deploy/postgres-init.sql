CREATE DATABASE nextcloud OWNER storages;
