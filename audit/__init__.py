"""vod-audit: declarative audit of Alibaba Cloud ApsaraVideo VOD jobs."""

__version__ = "0.1.0"
