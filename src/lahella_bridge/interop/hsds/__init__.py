"""The HSDS 3.0 profile: routes, their declared parameters, pure renderers."""
