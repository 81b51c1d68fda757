"""Question → hybrid search (dense + lexical) → fused hits → grounded answer with citations."""
