"""Errors of the tags API beyond the Library's shared ones (``library/errors.py``)."""

from __future__ import annotations

from meadhall.platform.errors import Unprocessable


class MergeIntoItself(Unprocessable):
    code = "tag_merge_into_itself"
