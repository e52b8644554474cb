import sys

from advzoo.cli import main

sys.exit(main())
