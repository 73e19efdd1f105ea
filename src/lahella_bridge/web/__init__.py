"""Request plumbing shared by every HTTP surface: sessions, language, paging, filters."""
