-- tierwatch store, schema version 2: staging for the file being loaded.
-- Each block of a file is checked and written here in a short transaction of its own, and
-- one final transaction moves the file's rows into attempts, downstream_failures and
-- rejects (and refreshes tasks). A load that dies leaves rows only here, which no query
-- reads and the next load clears: the tables users see hold none or all of a file, while
-- memory stays bounded by a block instead of growing with the file.
create table staging_attempts as select * from attempts limit 0;
create table staging_downstream_failures as select * from downstream_failures limit 0;
create table staging_rejects as select * from rejects limit 0;
