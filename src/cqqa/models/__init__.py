"""Models: the embedder interface and its backends, model files (fetch, verify), the reader's server and chat client."""
