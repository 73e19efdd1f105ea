"""PURE mapping of upstream records (Lähellä.fi activities, PTV services) to stored records,
PTV bodies and the county classification. No I/O, no clock, no database."""
