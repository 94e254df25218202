"""`python -m codegen_ui` is the `codegen-ui` command."""

import sys

from codegen_ui.cli import main

sys.exit(main())
