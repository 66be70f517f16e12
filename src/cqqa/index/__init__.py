"""Index: embed chunks and sentences, write a version (FAISS, BM25, sentences, name bridge), load it, keep it current."""
