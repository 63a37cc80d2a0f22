"""The cluster backend: environments on the nodes of a Ray cluster, one node agent per node (issue 17)."""
