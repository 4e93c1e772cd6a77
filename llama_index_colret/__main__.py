"""`python -m llama_index_colret` runs the `colret` command."""

import sys

from .cli import main

sys.exit(main())
