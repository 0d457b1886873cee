"""`python -m motcua.cli ...` runs the command line, as the `motcua` script does."""

import sys

from motcua.cli.app import main

sys.exit(main())
