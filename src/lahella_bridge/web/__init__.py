"""Request plumbing every HTTP surface shares: the database session, language, paging, filters."""
