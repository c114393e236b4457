-- Rebuild the chunks' HNSW index with 24 links per node instead of pgvector's default 16.
--
-- Retrieval filters by the user's groups inside the kNN query (iterative index scan), so the
-- graph is walked past the neighbours of other groups. With 16 links, at 50,000 chunks and a
-- group holding a tenth of them, that walk lost its way: recall@10 against an exact scan was
-- 0.83 (ef_search 100), and some queries found none of their true neighbours. With 24 links it is
-- 0.985, with the same build time (bench/rag.py); 32 links reach 0.998 but make each ingested
-- chunk's insert twice as slow as 16 (24: +40%).
DROP INDEX IF EXISTS app.chunks_embedding_idx;
CREATE INDEX chunks_embedding_idx ON app.chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 24, ef_construction = 64);
