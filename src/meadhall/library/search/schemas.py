"""Response bodies of the search facets API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MakeFacet(BaseModel):
    """A camera maker and how many of the caller's assets it took."""

    make: str = Field(examples=["Canon"])
    count: int


class ModelFacet(BaseModel):
    """A camera model (with its maker, when known) and how many assets it took."""

    make: str | None = Field(examples=["Canon"])
    model: str = Field(examples=["EOS R5"])
    count: int


class CountryFacet(BaseModel):
    """A country the caller's photos were taken in."""

    country: str = Field(examples=["France"])
    code: str | None = Field(description="ISO 3166-1 alpha-2, when known.", examples=["FR"])
    count: int


class CityFacet(BaseModel):
    """A city (with its country, when known) the caller's photos were taken in."""

    city: str = Field(examples=["Paris"])
    country: str | None = Field(examples=["France"])
    count: int


class SearchFacets(BaseModel):
    """The distinct cameras and places among the caller's own assets outside the trash.

    Each list is sorted by count (most first), then by name, and capped at ``limit``. Values
    that differ only in case are one entry, as the list filters compare without case.
    """

    makes: list[MakeFacet]
    models: list[ModelFacet]
    countries: list[CountryFacet]
    cities: list[CityFacet]
