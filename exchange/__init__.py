"""paperex: the venue, its journal, gateway and order flow around the matching books."""
from exchange._accelerated import install as _install_pure_switch

__version__ = "0.1.0"
_install_pure_switch()
