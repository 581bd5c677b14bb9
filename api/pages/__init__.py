"""Pages for people, rendered on the server: the storefront and the account pages our emails
link to. They call the same service functions as the JSON API and never a second copy of a
rule; their paths never collide with the API's (README, "Pages")."""

from pathlib import Path

from api.pages.cache import SharedPageCache, SignedInPages

__all__ = ["STATIC", "SharedPageCache", "SignedInPages"]

STATIC = Path(__file__).parent / "static"
