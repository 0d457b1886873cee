"""The benchmark suite (issue 7): `python -m bench [--quick] [--only ...]`; see bench/README.md."""
