"""All SQL, in one module per concern: runs, writes, quarantine, and reads per surface.
Import from the module that owns a function; nothing is re-exported here."""
