"""Ingestion: PDF -> pages with rendered images on demand and regions with boxes."""
