"""The upstreams a harvest reads, one module per source behind the `Source` protocol
(base.py): how its records are listed, keyed, normalised and judged complete."""
