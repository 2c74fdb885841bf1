"""paperex: the venue, its journal, gateway and order flow around the matching books."""
__version__ = "0.1.0"
