"""HAL+JSON rendering of emulator records, shaped like Action Network's responses.

Every resource carries ``identifiers``, dates, ``_links.self`` and the curies; a collection embeds
each item in full under ``_embedded.<rel>`` and also lists it under ``_links.<rel>``.

Every action but an event campaign links its creator (the store's owner when it has no other);
events link it as creator and organizer but, since 2018, embed neither, other actions embed the
full person. A postal address always carries its ``location`` block, null when not geocoded.
Submissions, signatures, attendances and donations always carry ``action_network:referrer_data``
(``"none"`` values when unknown); a donation's ``payment.reference_number`` is its id, as in the
documented example. Surveys and their responses use the ``action_network:`` namespace for their
collections, helper and links (a response links ``action_network:survey``); responses carry no
answers (their fields are unconfirmed).

Unconfirmed shapes, chosen here: a ``previous`` link on pages after the first; totals (0) on
empty pages of collections that have totals; ``self`` of a collection is its bare URL (as in a
real capture), while ``next`` keeps ``filter`` and ``per_page``.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote, urlencode

from .records import ACTION_KINDS, CHILD_REL, PARENT_OF, Action, Participation, Person, Tag, format_time
from .store import Store

CURIES = [
    {"name": "osdi", "href": "https://actionnetwork.org/docs/v2/{rel}", "templated": True},
    {"name": "action_network", "href": "https://actionnetwork.org/docs/v2/{rel}", "templated": True},
]
PERSON_CHILDREN = ("attendances", "signatures", "submissions", "donations", "outreaches", "taggings", "responses")
NO_REFERRER = {"source": "none", "referrer": "none", "website": "none"}
REFERRED = {"submissions", "signatures", "attendances", "donations"}


def link(href: str) -> dict[str, str]:
    return {"href": href}


def _base(record_identifiers: list[str] | None, id: str, created: int, modified: int) -> dict[str, Any]:
    return {"identifiers": record_identifiers or [f"action_network:{id}"],
            "created_date": format_time(created), "modified_date": format_time(modified)}


def person(api: str, p: Person) -> dict[str, Any]:
    doc = _base(p.identifiers, p.id, p.created, p.modified)
    if p.family_name is not None:
        doc["family_name"] = p.family_name
    if p.given_name is not None:
        doc["given_name"] = p.given_name
    doc["languages_spoken"] = list(p.languages)
    doc["email_addresses"] = [{"primary": e.primary, "address": e.address, "status": e.status}
                              for e in p.emails]
    if p.phones is not None:
        doc["phone_numbers"] = [{"primary": n.primary, "number": n.number, "number_type": n.number_type,
                                 "status": n.status} for n in p.phones]
    language = p.languages[0] if p.languages else "en"
    doc["postal_addresses"] = [_address(a, language) for a in p.addresses]
    doc["custom_fields"] = dict(p.custom_fields or {})
    self_href = f"{api}/people/{p.id}"
    doc["_links"] = {"self": link(self_href),
                     **{CHILD_REL[c]: link(f"{self_href}/{c}") for c in PERSON_CHILDREN},
                     "curies": CURIES}
    return doc


def _address(a: Any, language: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"primary": a.primary}
    if a.address_lines:
        doc["address_lines"] = list(a.address_lines)
    for key in ("locality", "region", "postal_code", "country"):
        value = getattr(a, key)
        if value is not None:
            doc[key] = value
    doc["language"] = language
    doc["location"] = {"latitude": a.latitude, "longitude": a.longitude, "accuracy": a.accuracy}
    return doc


def tag(api: str, t: Tag) -> dict[str, Any]:
    doc = _base(None, t.id, t.created, t.modified)
    doc["name"] = t.name
    doc["_links"] = {"self": link(f"{api}/tags/{t.id}"), "osdi:taggings": link(f"{api}/tags/{t.id}/taggings"),
                     "curies": CURIES}
    return doc


def action(api: str, store: Store, a: Action) -> dict[str, Any]:
    kind = ACTION_KINDS[a.kind]
    doc = _base(a.identifiers, a.id, a.created, a.modified)
    doc.update(a.fields)
    children = store.children.get(a.id, ())
    if a.kind == "events":
        doc["total_accepted"] = sum(1 for r in children if r.fields.get("status") == "accepted")
    elif a.kind == "event_campaigns":
        doc["total_events"] = len(children)
        doc["total_rsvps"] = sum(len(store.children.get(e.id, ())) for e in children)
    else:
        doc[kind.total] = len(children)
    if a.kind == "fundraising_pages":
        doc["total_amount"] = f"{sum(float(r.fields.get('amount') or 0) for r in children):.2f}"
    self_href = f"{api}/{a.kind}/{a.id}"
    links: dict[str, Any] = {"self": link(self_href), kind.child_rel: link(f"{self_href}/{kind.child}")}
    if kind.helper:
        links[f"{kind.child_namespace}:{kind.helper}"] = link(f"{self_href}/{kind.child}")
    if a.kind == "events":
        links[kind.helper] = link(f"{self_href}/{kind.child}")  # the legacy un-prefixed name, still served
        if a.campaign_id:
            doc["action_network:event_campaign_id"] = a.campaign_id
            links["action_network:event_campaign"] = link(f"{api}/event_campaigns/{a.campaign_id}")
    creator_id = a.creator_id or store.owner_id
    creator = store.people.get(creator_id) if creator_id and a.kind != "event_campaigns" else None
    if creator is not None:
        links["osdi:creator"] = link(f"{api}/people/{creator.id}")
        if a.kind == "events":
            links["osdi:organizer"] = link(f"{api}/people/{creator.id}")
        else:  # events stopped embedding their creator in 2018
            doc["_embedded"] = {"osdi:creator": person(api, creator)}
    links["action_network:embed"] = link(f"{self_href}/embed")
    links["curies"] = CURIES
    doc["_links"] = links
    return doc


def participation(api: str, r: Participation) -> dict[str, Any]:
    doc = _base(r.identifiers, r.id, r.created, r.modified)
    if r.fields:
        doc.update(r.fields)
    if r.kind in REFERRED and "action_network:referrer_data" not in doc:
        doc["action_network:referrer_data"] = NO_REFERRER
    payment = doc.get("payment")
    if isinstance(payment, dict) and "reference_number" not in payment:
        doc["payment"] = {**payment, "reference_number": r.id}
    person_href = f"{api}/people/{r.person_id}"
    if r.kind == "taggings":
        links = {"self": link(f"{api}/tags/{r.parent_id}/taggings/{r.id}"),
                 "osdi:tag": link(f"{api}/tags/{r.parent_id}"), "osdi:person": link(person_href)}
    else:
        parent_kind = ACTION_KINDS[PARENT_OF[r.kind]]
        parent_href = f"{api}/{parent_kind.collection}/{r.parent_id}"
        doc["action_network:person_id"] = r.person_id
        doc[f"action_network:{parent_kind.singular}_id"] = r.parent_id
        self_href = f"{api}/donations/{r.id}" if r.kind == "donations" else f"{parent_href}/{r.kind}/{r.id}"
        links = {"self": link(self_href), f"{parent_kind.namespace}:{parent_kind.singular}": link(parent_href),
                 "osdi:person": link(person_href)}
        if r.kind == "attendances":
            links["osdi:people"] = link(person_href)  # legacy link kept by Action Network
    links["curies"] = CURIES
    doc["_links"] = links
    return doc


def collection(url: str, rel: str, items: list[dict[str, Any]], page: int, per_page: int,
               total: int | None, query: dict[str, str]) -> dict[str, Any]:
    """One page. ``total`` None leaves out totals (people). ``next`` is there whenever items are."""
    doc: dict[str, Any] = {}
    if total is not None:
        doc["total_pages"] = math.ceil(total / per_page)
    doc["per_page"] = per_page
    doc["page"] = page
    if total is not None:
        doc["total_records"] = total
    links: dict[str, Any] = {}
    if items:
        links["next"] = link(_page_url(url, query, page + 1))
    if page > 1:
        links["previous"] = link(_page_url(url, query, page - 1))
    links["self"] = link(url)
    links[rel] = [link(item["_links"]["self"]["href"]) for item in items]
    links["curies"] = CURIES
    doc["_links"] = links
    doc["_embedded"] = {rel: items}
    return doc


def _page_url(url: str, query: dict[str, str], page: int) -> str:
    return f"{url}?{urlencode({**query, 'page': page}, quote_via=quote, safe=chr(39))}"
