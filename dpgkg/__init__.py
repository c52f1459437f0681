"""dpgkg: the Digital Public Goods knowledge graph and linked-data publisher."""

__version__ = "0.1.0"
