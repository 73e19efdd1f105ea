"""Server-rendered pages: the embeddable listing and the professionals' referral tool."""
