"""The audit of a manifest: the pipeline that executes a plan, the run record, waivers, night-over-night changes."""
