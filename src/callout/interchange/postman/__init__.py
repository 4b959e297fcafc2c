"""Postman Collection v2.1 (and v2.0) import, and export of an API as a v2.1 collection.

read(data, source) -> Converted       # a collection, as loading.parse gave it
write(document) -> dict               # an API document as a collection Postman opens
not_carried(document) -> list[str]    # what such a collection leaves out
"""

from callout.interchange.postman.reader import read
from callout.interchange.postman.writer import not_carried, write

__all__ = ["not_carried", "read", "write"]
