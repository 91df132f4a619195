"""Action Network REST API v2 client: paced, concurrent paging and the writes the sync needs.

Plain ``requests``; no Airflow import (the hook in :mod:`.hook` builds one from a connection).

Throughput. Action Network allows 4 requests/s per key at 25 records a page and answers each in a
few hundred milliseconds, so sequential paging would waste most of the allowance waiting. Every
request of a client (from any thread) takes a slot from one :class:`.TokenBucket`, and pages are
fetched by a small thread pool so that enough requests are in flight to keep that bucket busy.

Paging never trusts ``next`` (it is present on last pages). A collection ends at an empty page, a
page shorter than 25, or ``page >= total_pages`` when the collection reports totals. Collections
with totals are fetched page 1 first, then the remaining pages concurrently. The people collection
has no totals, so pages beyond the last known one are requested speculatively: the window of
pages in flight grows to ``ceil(rate x latency)`` extra pages, but never beyond a tenth of the
pages already known to be needed, so a small hourly increment costs no more than 1.1x the minimum
number of requests and a large extract overshoots by at most a couple of pages.

Results come out in page order, each resource once (deduplicated by id across pages, since pages
shift when records change while we read).

Retries follow the sync's one :mod:`an_sf_sync.retry` policy: 429, 5xx, timeouts and connection
errors are retried with backoff, a 429 after its ``Retry-After`` when Action Network sends one; a
429 also pushes back the shared bucket, so every thread slows down. Requests that would duplicate
data if repeated after the server acted on them (donations, outreaches, new actions) are retried
only on 429 and failed connects. 401/403 fail at once with :class:`.ActionNetworkAuthError`.
Error messages never contain the API key.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter

from an_sf_sync import synced
from an_sf_sync.retry import (
    DEFAULT_RETRY,
    RetryPolicy,
    Verdict,
    retry_after,
    status_verdict,
    transport_verdict,
)

from . import records
from .errors import (
    ActionNetworkAuthError,
    ActionNetworkError,
    ActionNetworkNotFoundError,
    ActionNetworkRequestError,
    ActionNetworkUnavailableError,
)
from .ratelimit import TokenBucket
from .records import Record

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://actionnetwork.org/api/v2/"
PAGE_SIZE = 25
SUBSCRIPTION_STATUSES = ("subscribed", "unsubscribed")


class _Cancelled(Exception):
    """A speculative page no longer needed: the collection ended before its turn."""


class ActionNetworkClient:
    """A client for one Action Network API key.

    ``conn_id`` only names where the key came from, for error messages; ``retry`` is the
    :class:`~an_sf_sync.retry.RetryPolicy` of every request.
    """

    def __init__(self, base_url: str, api_key: str, *,
                 requests_per_second: float = 4.0, concurrency: int = 8, timeout: float = 30.0,
                 retry: RetryPolicy = DEFAULT_RETRY, conn_id: str | None = None,
                 session: requests.Session | None = None) -> None:
        if not api_key:
            raise ValueError("an Action Network API key is required")
        self.base_url = base_url.rstrip("/") + "/"
        self._api_key = api_key
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.retry = retry
        self.conn_id = conn_id
        self._bucket = TokenBucket(requests_per_second)
        self._owns_session = session is None
        self._session = session or self._new_session(self.concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="actionnetwork")
        self._counter_lock = threading.Lock()
        self._latency = 0.0  # moving average of response times, seconds
        self.requests_made = 0
        self.throttled = 0  # 429 answers received

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}({self.base_url!r}, conn_id={self.conn_id!r})"

    def __enter__(self) -> ActionNetworkClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_session:
            self._session.close()

    # ---------------------------------------------------------------- reads

    def check_auth(self) -> None:
        """Make one authenticated request; raise :class:`.ActionNetworkAuthError` if the key is refused.

        The entry point answers 200 even for a bad key, so a protected collection is asked instead.
        """
        self._request("GET", "people", params={"per_page": 1})

    def people(self, modified_since: datetime | None = None,
               modified_before: datetime | None = None) -> Iterator[Record]:
        """People modified in ``[modified_since, modified_before)`` (all people without bounds)."""
        yield from self._records("people", "osdi:people", records.person, modified_since, modified_before)

    def actions(self, action_type: str, modified_since: datetime | None = None,
                modified_before: datetime | None = None) -> Iterator[Record]:
        path, rel, _, _ = _action_paths(action_type)
        yield from self._records(path, rel, lambda raw: records.action(raw, action_type),
                                 modified_since, modified_before)

    def participations(self, action_type: str, action_id: str, modified_since: datetime | None = None,
                       modified_before: datetime | None = None) -> Iterator[Record]:
        """Submissions, signatures, attendances, donations, outreaches or survey responses of one action."""
        path, _, child, rel = _action_paths(action_type, participations=True)
        yield from self._records(f"{path}/{quote(action_id)}/{child}", rel,
                                 lambda raw: records.participation(raw, action_type, action_id),
                                 modified_since, modified_before)

    def donations(self, modified_since: datetime | None = None,
                  modified_before: datetime | None = None) -> Iterator[Record]:
        """Every donation of the list, whatever the page (``GET /donations``)."""
        yield from self._records("donations", "osdi:donations", records.donation,
                                 modified_since, modified_before)

    def find_donation(self, identifier: str) -> Record | None:
        """The donation carrying ``identifier`` (e.g. ``salesforce:<Opportunity Id>``), or None.

        How the sync learns whether a donation POST whose answer was lost did land: Action
        Network does not deduplicate donations, but identifiers are unique and filterable.
        """
        quoted = identifier.replace("'", "''")
        body = self._request("GET", "donations", params={"filter": f"identifier eq '{quoted}'"}) or {}
        found = (body.get("_embedded") or {}).get("osdi:donations") or []
        return records.donation(found[0]) if found else None

    def collections(self) -> list[str]:
        """The rels of what the group holds, as its API entry point lists them (``osdi:forms``,
        ``action_network:surveys`` ...); a bad key would list only the helpers, so it is checked."""
        body = self._request("GET", "") or {}
        rels = [rel for rel in body.get("_links") or {} if rel not in ("self", "docs", "curies")]
        if "osdi:people" not in rels:
            self.check_auth()  # raises ActionNetworkAuthError for a refused key
        return rels

    def custom_fields(self) -> list[str]:
        """Names of the list's custom fields (``/metadata/custom_fields``)."""
        body = self._request("GET", "metadata/custom_fields") or {}
        return [field["name"] for field in body.get("action_network:custom_fields") or ()
                if isinstance(field, Mapping) and field.get("name")]

    def get_person(self, an_id: str) -> Record:
        return records.person(self._request("GET", f"people/{quote(an_id)}"))

    def get_action(self, action_type: str, an_id: str) -> Record:
        path, _, _, _ = _action_paths(action_type)
        return records.action(self._request("GET", f"{path}/{quote(an_id)}"), action_type)

    def find_action(self, action_type: str, identifier: str) -> Record | None:
        """The action carrying a foreign ``identifier`` (e.g. ``salesforce:<Campaign Id>``), or None.

        Identifiers are unique across Action Network, so this finds an action whose creation
        answer was lost before it is created a second time.
        """
        found = self.find_actions(action_type, "identifier", identifier)
        return found[0] if found else None

    def find_actions(self, action_type: str, field: str, value: str) -> list[Record]:
        """The first page of actions whose ``field`` (``identifier``, ``title`` …) equals ``value``."""
        path, rel, _, _ = _action_paths(action_type)
        quoted = value.replace("'", "''")
        body = self._request("GET", path, params={"filter": f"{field} eq '{quoted}'"}) or {}
        return [records.action(raw, action_type) for raw in (body.get("_embedded") or {}).get(rel) or []]

    # ---------------------------------------------------------------- writes

    def upsert_person(self, fields: Mapping[str, Any], *, subscription: str | None = None,
                      add_tags: Sequence[str] = (), remove_tags: Sequence[str] = (),
                      background: bool = False) -> Record:
        """Create or update a person by email through the person signup helper.

        ``fields`` uses the normalized person keys (``email``, ``given_name``, ``street``...);
        missing or ``None`` values are not sent, so nothing is erased. No email status is sent
        unless ``subscription`` is ``"subscribed"`` or ``"unsubscribed"``: an existing person then
        keeps theirs. (Action Network subscribes a *new* person sent without a status; pass
        ``subscription="unsubscribed"`` to create one unsubscribed.) Returns the normalized
        person, or an empty record for a background request, which answers ``{}``.
        """
        if not fields.get("email"):
            raise ValueError("the person signup helper matches on email; fields['email'] is required")
        body: dict[str, Any] = {"person": _person_body(fields, subscription)}
        if add_tags:
            body["add_tags"] = list(add_tags)
        if remove_tags:
            body["remove_tags"] = list(remove_tags)
        return self._write("POST", "people", body, records.person, background=background)

    def update_person(self, an_id: str, fields: Mapping[str, Any], *, subscription: str | None = None,
                      background: bool = False) -> Record:
        """PUT the given fields onto a person. Fields left out stay untouched; a field given as
        ``None`` is cleared, sent as an explicit ``null`` ("no data will be removed unless it is
        explicitly nulled"). The email is never cleared; a new one becomes the primary address."""
        return self._write("PUT", f"people/{quote(an_id)}", _person_body(fields, subscription, nulls=True),
                           records.person, background=background)

    def unsubscribe(self, an_id: str, *, background: bool = False) -> Record:
        """Unsubscribe a person's email; the person and their history stay."""
        return self.update_person(an_id, {}, subscription="unsubscribed", background=background)

    def record_participation(self, action_type: str, action_id: str, *, person_id: str | None = None,
                             email: str | None = None, person: Mapping[str, Any] | None = None,
                             subscription: str | None = None, created_date: datetime | None = None,
                             identifiers: Sequence[str] = (), background: bool = False,
                             **fields: Any) -> Record:
        """Record that a person took an action: a submission (form), signature (petition),
        attendance (event), response (survey; no answers) or outreach (advocacy campaign;
        API-created campaigns only, and ``targets`` is then usually required).

        The person is linked by id when ``person_id`` is given (their subscription is untouched).
        Otherwise the record_*_helper form is used: with ``person`` (normalized person fields, as
        for :meth:`upsert_person`) the helper creates or updates that person, matched by email, and
        records the action in the same request; action helpers accept only ``"subscribed"`` as
        ``subscription``. With ``email`` alone, only the address is sent, with no status. The
        returned participation's ``person_id`` names the person the helper matched or created. A
        foreign identifier makes a participation of a kind Action Network does not deduplicate
        findable (:meth:`find_participation`) once the POST's answer is lost; such a POST is not retried.
        """
        path, _, child, _ = _action_paths(action_type, participations=True)
        if action_type == "fundraising_page":
            raise ValueError("use record_donation() for fundraising pages")
        if subscription not in (None, "subscribed"):
            raise ValueError("action helpers accept only 'subscribed' as an email status")
        if person is not None:
            if not person.get("email"):
                raise ValueError("the action helpers match on email; person['email'] is required")
            body = {**fields, "person": _person_body(person, subscription)}
        else:
            body = {**fields, **self._person_ref(person_id, email)}
        if created_date is not None:
            body["created_date"] = records.format_date(created_date)
        if identifiers:
            body["identifiers"] = list(identifiers)
        return self._write("POST", f"{path}/{quote(action_id)}/{child}", body,
                           lambda raw: records.participation(raw, action_type, action_id),
                           background=background, idempotent=synced.action_type(action_type).deduplicated)

    def find_participation(self, action_type: str, action_id: str, identifier: str) -> Record | None:
        """The participation of one action carrying a foreign ``identifier``, or None."""
        path, _, child, rel = _action_paths(action_type, participations=True)
        quoted = identifier.replace("'", "''")
        body = self._request("GET", f"{path}/{quote(action_id)}/{child}",
                             params={"filter": f"identifier eq '{quoted}'"}) or {}
        found = (body.get("_embedded") or {}).get(rel) or []
        return records.participation(found[0], action_type, action_id) if found else None

    def record_donation(self, fundraising_page_id: str, amount: str, *, person_id: str | None = None,
                        email: str | None = None, currency: str | None = None,
                        recurring_period: str | None = None, created_date: datetime | None = None,
                        recipient: str = "Salesforce Donations", identifiers: Sequence[str] = (),
                        background: bool = False) -> Record:
        """Record an offline donation (only API-created fundraising pages accept one).

        Donations are not deduplicated by Action Network, so this is not retried once the server
        may have acted; pass a foreign identifier (e.g. ``salesforce:<Opportunity Id>``) to be able
        to find it again.
        """
        body: dict[str, Any] = {"recipients": [{"display_name": recipient, "amount": str(amount)}],
                                **self._person_ref(person_id, email)}
        if currency:
            body["currency"] = currency
        if recurring_period:
            body["action_network:recurrence"] = {"recurring": True, "period": recurring_period}
        if created_date is not None:
            body["created_date"] = records.format_date(created_date)
        if identifiers:
            body["identifiers"] = list(identifiers)
        return self._write("POST", f"fundraising_pages/{quote(fundraising_page_id)}/donations", body,
                           records.donation, background=background, idempotent=False)

    def create_action(self, action_type: str, title: str, *, origin_system: str = "Salesforce",
                      identifiers: Sequence[str] = (), **fields: Any) -> Record:
        """Create a form, petition, event, fundraising page, advocacy or event campaign, or survey."""
        path, _, _, _ = _action_paths(action_type)
        body = {"title": title, "origin_system": origin_system, **fields}
        if identifiers:
            body["identifiers"] = list(identifiers)
        return self._write("POST", path, body, lambda raw: records.action(raw, action_type), idempotent=False)

    def create_form(self, title: str, **fields: Any) -> Record:
        """E.g. the "Salesforce Users" form that subscribers added from Salesforce are recorded on."""
        return self.create_action("form", title, **fields)

    def create_fundraising_page(self, title: str, **fields: Any) -> Record:
        """E.g. the "Salesforce Donations" page that donations from Salesforce are recorded on."""
        return self.create_action("fundraising_page", title, **fields)

    # ---------------------------------------------------------------- paging

    def _records(self, path: str, rel: str, normalize: Callable[[Mapping[str, Any]], Record],
                 since: datetime | None, before: datetime | None) -> Iterator[Record]:
        """Normalized items modified in ``[since, before)``, each once, in page order.

        Action Network's ``gt`` is strict and its timestamps whole seconds, so the filter asks for
        everything after the second before ``since``; both bounds are then applied here (AN has no
        ``and`` to send the upper bound with).
        """
        params = {}
        if since is not None:
            params["filter"] = f"modified_date gt '{records.format_date(since - timedelta(seconds=1))}'"
        seen: set[str] = set()
        for page in self._pages(path, rel, params):
            for raw in page:
                record = normalize(raw)
                key = record["an_id"]
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                modified = record["modified_date"]
                if modified is not None and ((since is not None and modified < since)
                                             or (before is not None and modified >= before)):
                    continue
                yield record

    def _pages(self, path: str, rel: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        cancel = threading.Event()
        items, total_pages = self._get_page(path, rel, params, 1, cancel)
        yield items
        if len(items) < PAGE_SIZE or (total_pages is not None and total_pages <= 1):
            return
        pages: Iterable[int] = range(2, total_pages + 1) if total_pages is not None else itertools.count(2)
        yield from self._ordered_pages(path, rel, params, pages, total_pages is None, cancel)

    def _ordered_pages(self, path: str, rel: str, params: Mapping[str, Any], pages: Iterable[int],
                       speculative: bool, cancel: threading.Event) -> Iterator[list[dict[str, Any]]]:
        """Fetch ``pages`` concurrently and yield them in order, stopping at the first short page.

        Known pages (``speculative`` false) are all needed, so the pool's size bounds the window.
        """
        pending = iter(pages)
        in_flight: deque = deque()
        full_pages = 1
        try:
            while True:
                window = self._speculative_window(full_pages) if speculative else self.concurrency
                while len(in_flight) < window:
                    page = next(pending, None)
                    if page is None:
                        break
                    in_flight.append(self._pool.submit(self._get_page, path, rel, params, page, cancel))
                if not in_flight:
                    return
                items, _ = in_flight.popleft().result()
                yield items
                if len(items) < PAGE_SIZE:
                    return
                full_pages += 1
        finally:
            cancel.set()
            for future in in_flight:
                future.cancel()

    def _speculative_window(self, full_pages: int) -> int:
        """Pages to keep in flight when the end of the collection is unknown.

        ``ceil(rate x latency)`` extra pages keep the bucket busy; at most one extra page per ten
        known-needed ones keeps the total within 1.1x of the minimum however the collection ends.
        """
        wanted = math.ceil(self._bucket.effective_rate * self._latency)
        affordable = (full_pages + 1) // 10
        return 1 + max(0, min(wanted, affordable, self.concurrency - 1))

    def _get_page(self, path: str, rel: str, params: Mapping[str, Any], page: int,
                  cancel: threading.Event) -> tuple[list[dict[str, Any]], int | None]:
        body = self._request("GET", path, params={**params, "page": page}, cancel=cancel) or {}
        items = (body.get("_embedded") or {}).get(rel) or []
        total = body.get("total_pages")
        return items, int(total) if isinstance(total, int | str) and str(total).isdigit() else None

    # ---------------------------------------------------------------- transport

    def _write(self, method: str, path: str, body: Mapping[str, Any],
               normalize: Callable[[Mapping[str, Any]], Record], *, background: bool = False,
               idempotent: bool = True) -> Record:
        """The written record; empty for a background request, which Action Network answers ``{}``."""
        params = {"background_request": "true"} if background else None
        answer = self._request(method, path, params=params, json=body, idempotent=idempotent)
        if background:
            return {}
        if not answer:
            raise ActionNetworkError(f"{method} {path} answered no record", endpoint=path)
        return normalize(answer)

    def _person_ref(self, person_id: str | None, email: str | None) -> dict[str, Any]:
        if person_id:
            return {"_links": {"osdi:person": {"href": f"{self.base_url}people/{quote(person_id)}"}}}
        if email:
            return {"person": {"email_addresses": [{"address": email}]}}
        raise ValueError("person_id or email is required")

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Any = None, idempotent: bool = True,
                 cancel: threading.Event | None = None) -> Any:
        """One API call with pacing and retries; the decoded JSON body (``None`` when empty)."""
        endpoint = f"{path}?{urlencode(params, quote_via=quote)}" if params else path
        url = self.base_url + endpoint
        headers = {"OSDI-API-Token": self._api_key, "Accept": "application/hal+json, application/json"}
        problem = ""
        for tries in range(1, self.retry.attempts + 1):
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            self._bucket.acquire()
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            with self._counter_lock:
                self.requests_made += 1
            started = time.monotonic()
            status, asked, cause = None, None, None
            try:
                response = self._session.request(method, url, json=json, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                verdict = transport_verdict(exc)
                if verdict is None:
                    raise
                problem, cause = type(exc).__name__, exc
            else:
                status = response.status_code
                if status < 400:
                    self._observe_latency(time.monotonic() - started)
                    return response.json() if response.content.strip() else None
                verdict = status_verdict(status)
                if verdict is Verdict.FAIL:
                    raise self._error(method, endpoint, response)
                problem = f"HTTP {status}: {self._error_text(response)}"
                if status == 429:
                    with self._counter_lock:
                        self.throttled += 1
                    asked = retry_after(response.headers.get("Retry-After"))
            if verdict is Verdict.FAIL:
                raise ActionNetworkError(f"Action Network {method} {endpoint} failed ({problem})",
                                         endpoint=endpoint) from cause
            if verdict is Verdict.RETRY_IF_SAFE and not idempotent:
                raise _not_retried(method, endpoint, problem, status) from cause
            if tries >= self.retry.attempts:
                break
            delay = self.retry.delay(tries - 1, asked)
            if status == 429:
                self._bucket.pause(delay)
            log.warning("Action Network %s %s: %s; retry %d/%d in %.2fs",
                        method, endpoint, problem, tries, self.retry.attempts - 1, delay)
            time.sleep(delay)
        raise ActionNetworkUnavailableError(
            f"Action Network {method} {endpoint} still failing after {self.retry.attempts} attempts "
            f"(last: {problem})", endpoint=endpoint)

    def _observe_latency(self, seconds: float) -> None:
        self._latency = 0.8 * self._latency + 0.2 * seconds if self._latency else seconds

    def _error_text(self, response: requests.Response) -> str:
        """AN's ``error`` text (or a note that the body was an HTML page), with the key scrubbed."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping):
            text = str(payload.get("error") or payload.get("message") or payload)
        elif "html" in response.headers.get("Content-Type", "") or response.text.lstrip().startswith("<"):
            text = "an HTML page instead of JSON"
        else:
            text = response.text.strip()[:200] or "empty body"
        return text.replace(self._api_key, "***")

    def _error(self, method: str, endpoint: str, response: requests.Response) -> ActionNetworkError:
        status = response.status_code
        text = self._error_text(response)
        where = f"{method} {endpoint}"
        if status in (401, 403):
            source = f"Airflow connection {self.conn_id!r}" if self.conn_id else "this client"
            return ActionNetworkAuthError(
                f"Action Network rejected the API key of {source} ({status} on {where}: {text}). "
                "Copy the list's API key from Action Network (Start Organizing > API & Sync) and "
                f"store it as the password of {source}; keys belong to one list or group.",
                status=status, endpoint=endpoint)
        if status == 404:
            return ActionNetworkNotFoundError(f"Action Network has no {endpoint} (404 on {where}: {text})",
                                              status=status, endpoint=endpoint)
        return ActionNetworkRequestError(f"Action Network refused {where} ({status}: {text})",
                                         status=status, endpoint=endpoint)

    @staticmethod
    def _new_session(pool_size: int) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


def _person_body(fields: Mapping[str, Any], subscription: str | None, *, nulls: bool = False) -> dict[str, Any]:
    """Normalized person fields (the declared ones, ``synced.PERSON_FIELDS``) -> OSDI person. ``None``
    values are left out, or with ``nulls`` sent as ``null``, which clears them (a PUT's only way to
    remove data)."""
    if subscription is not None and subscription not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"subscription must be one of {SUBSCRIPTION_STATUSES}, not {subscription!r}")

    def given(key: str) -> bool:
        return key in fields and (nulls or fields[key] is not None)

    body: dict[str, Any] = {}
    email: dict[str, Any] = {"address": fields["email"]} if fields.get("email") else {}
    if email and nulls:
        email["primary"] = True  # a PUT's new address replaces the primary one instead of adding one
    if subscription is not None:
        email["status"] = subscription
    if email:
        body["email_addresses"] = [email]
    entries: dict[str, dict[str, Any]] = {}  # collection -> its primary entry's fields
    for field in synced.person_fields():
        if field.match_key or not given(field.an_column):
            continue
        value = fields[field.an_column]
        collection, _, key = field.an_path.rpartition(".")
        if key == "address_lines" and value is not None:
            value = str(value).split("\n")
        if collection:
            entries.setdefault(collection, {})[key] = value
        else:
            body[key] = value
    body |= {collection: [entry] for collection, entry in entries.items()}
    custom = {name: value for name, value in (fields.get("custom_fields") or {}).items()
              if nulls or value is not None}
    if custom:
        body["custom_fields"] = custom
    return body


def _action_paths(action_type: str, participations: bool = False) -> tuple[str, str, str, str]:
    kind = synced.action_type(action_type)
    if participations and kind.takers is None:
        raise ValueError(f"{action_type} has no participations on the API")
    return kind.collection, kind.rel, kind.takers or "", kind.takers_rel or ""


def _not_retried(method: str, endpoint: str, problem: str,
                 status: int | None = None) -> ActionNetworkUnavailableError:
    return ActionNetworkUnavailableError(
        f"Action Network {method} {endpoint} failed ({problem}); not retried, since Action Network "
        "may have recorded it and a repeat could duplicate it", status=status, endpoint=endpoint)
