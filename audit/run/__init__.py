"""`vod-audit run`: plan, fetch, judge, store, report."""
