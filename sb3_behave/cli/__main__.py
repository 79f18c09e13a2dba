"""``python -m sb3_behave.cli``: the ``sb3-behave`` command."""

import sys

from sb3_behave.cli import main

sys.exit(main())
