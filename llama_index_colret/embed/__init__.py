"""Embedding: ColPali-family models turn page images and queries into multi-vectors."""
