"""One adapter per subcommand: `vod-audit NAME` runs `audit.commands.NAME.execute` (`schema X` is `schema_X`)."""
