"""The subcommands: `vod-audit NAME` runs `audit.commands.NAME.execute` (`schema X` is `schema_X`); the rest are steps they share."""
