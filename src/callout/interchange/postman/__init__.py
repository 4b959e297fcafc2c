"""Postman Collection v2.1 (and v2.0) import, and export of an API as a v2.1 collection.

read(data, source) -> Converted       # a collection, as loading.parse gave it
write(document) -> dict               # an API document as a collection Postman opens
"""

from callout.interchange.postman.reader import read
from callout.interchange.postman.writer import write

__all__ = ["read", "write"]
