"""Beyond one machine: ingest on a Ray cluster (`RayOptions`, used by ``index_pdfs(..., engine="ray")``).

Importing this package does not import Ray; the engine imports it when it runs."""

from .ray_ingest import RayOptions

__all__ = ["RayOptions"]
