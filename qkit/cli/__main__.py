import sys

from qkit.cli import main

sys.exit(main())
