"""Graph algorithms of graphfraud (``graphfraud.algorithms``).

Detection algorithms (Leiden rings, FRAUDAR peeling, personalized PageRank) arrive with the
ring-detection work; this package holds the small, reusable pieces they share.
"""
