"""`python -m cqqa.cli`."""

import sys

from cqqa.cli import main

sys.exit(main())
