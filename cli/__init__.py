"""The ``fncache`` command: inspect, explain, verify and purge a compiledir (docs/cli.md).

``cli.main`` parses arguments and dispatches; ``cli.commands`` holds one module per group of
subcommands; ``cli.format`` turns numbers into text and ``cli.output`` is the only place that
writes to the terminal.  Everything talks to the cache through ``fncache.cache``'s public API.
"""
