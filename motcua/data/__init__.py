"""Data files shipped with motcua; a package so that built wheels carry them."""
