"""One-off measurements and the docs' generator, run as `python -m scripts.NAME`.

`compare_backends` times candidate CPU backends for codegen-350M (decode tokens/s, prefill);
`kernel_recovery` times each kernel recovery (start, timeout -> interrupt or restart, death ->
restart); `docs_reference` writes the docs site's reference pages from the code (and is the
docs build's hook that checks them). None is a test nor part of the app: they import
`codegen_ui` only through its packages' `__init__`, under the same lint, type checks and import
contracts as the package.
"""
