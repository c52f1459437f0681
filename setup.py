"""Packaging beyond pyproject.toml: ontology/, shapes/ and data/ ship inside the package.

They stay at the top of the repository (where people look for them) and are mapped into
the wheel as ``dpgkg/_assets/<folder>``, plain files read with ``importlib.resources``
(``dpgkg.config.ASSETS_ROOT``). pyproject.toml cannot combine package discovery with
such a mapping, so the package list is here.
"""

from setuptools import find_packages, setup

ASSETS = {f"dpgkg._assets.{folder}": folder for folder in ("ontology", "shapes", "data")}
ASSET_FILES = ["*.ttl", "*.jsonld", "*.csv", "*.toml", "*.txt", "*.md", "queries/*.rq"]

setup(
    packages=find_packages(include=["dpgkg", "dpgkg.*"]) + list(ASSETS),
    package_dir=ASSETS,
    package_data={
        "dpgkg": ["web/templates/*.html", "web/static/**/*"],
        **{package: ASSET_FILES for package in ASSETS},
    },
)
