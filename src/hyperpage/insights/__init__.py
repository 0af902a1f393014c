"""Engineering insights: DORA's four keys and pull-request cycle time over synced deployments, reviews and
incidents."""
