"""Pure renderers of the event feeds: iCalendar and schema.org JSON-LD."""
