"""The Linked Events v1 profile: routes, their declared parameters, pure renderers."""
