"""`python -m codegen_ui` is the `codegen-ui` command."""

import sys

# The package, not `from codegen_ui.cli import main`: `cli.main` is also the name of a module.
import codegen_ui.cli

sys.exit(codegen_ui.cli.main())
