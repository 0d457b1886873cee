"""Data files shipped with motcua (catalog and calendar overrides); a package so wheels carry them."""
