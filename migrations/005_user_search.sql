-- Users search on the message tokenizer (ARCHITECTURE §9): the index tokens of name, email,
-- title and aliases, rewritten by every operation that changes one of them. NULL = not
-- indexed yet (rows from before this migration, or bulk-inserted); `msg_server reindex`
-- fills them. The trigram index of 001 served the LIKE search this replaces.
ALTER TABLE users ADD COLUMN search_tokens tsvector;
CREATE INDEX users_search_tokens ON users USING gin (search_tokens);
DROP INDEX users_search_trgm;
