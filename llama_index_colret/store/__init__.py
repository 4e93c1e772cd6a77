"""Storage: pages, multi-vectors, regions and images in LanceDB."""
