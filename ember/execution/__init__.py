"""Pools, environments and the backend seam; the OS sandbox lives in `local`, a cluster backend beside it."""
