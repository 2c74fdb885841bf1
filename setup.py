"""Builds the Cython matching engine and compiles the venue's modules (Cython
pure-Python mode: the ``.py`` files stay the pure-Python twin, see
``exchange/_accelerated.py``); all metadata lives in pyproject.toml."""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "matching._book",
        ["matching/_book.pyx"],
        language="c++",
        extra_compile_args=["-O3", "-std=c++17", "-fno-strict-aliasing"],
    ),
]
_VENUE = ["accounts", "orders", "positions", "spec", "symbol_state", "risk", "venue", "liquidation",
          "market", "conditional", "admin", "queries", "snapshot"]
venue_extensions = [
    # the perp kernels (compiled-only; their specifications are the exchange/perp modules)
    Extension("exchange.perp._kernels", ["exchange/perp/_kernels.pyx"], extra_compile_args=["-O2"]),
    # the record constructor (compiled-only; its specification is tuple.__new__, records.new_record)
    Extension("exchange.contract._records", ["exchange/contract/_records.pyx"], extra_compile_args=["-O2"]),
    # compiled-only, C++ (std::multiset); twin: liqindex.PyLiqIndex
    Extension("exchange.venue._liqindex", ["exchange/venue/_liqindex.pyx"], language="c++",
              extra_compile_args=["-O2", "-std=c++17"]),
] + [
    Extension(f"exchange.venue.{m}", [f"exchange/venue/{m}.py"], extra_compile_args=["-O2"])
    for m in _VENUE
]

setup(
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    ) + cythonize(
        venue_extensions,
        language_level=3,
        # The venue's integers stay Python ints (money products exceed 64 bits, and
        # // must floor): no C integer types are inferred for untyped locals.
        compiler_directives={"infer_types": False, "cdivision": False, "nonecheck": True},
    ),
)
