-- Korean-aware message search (ARCHITECTURE §9): the tokens of search::index_tokens (words,
-- CJK unigrams and bigrams) as a tsvector, written with each message. NULL = not indexed yet
-- (rows from before this migration; `msg_server reindex` fills them).
ALTER TABLE messages ADD COLUMN search_tokens tsvector;
CREATE INDEX messages_search_tokens ON messages USING gin (search_tokens);
