"""What our S3 client skips of botocore's per-request work, with nothing to do for it.

botocore runs the same Python for every request (about 1 ms of client CPU per HEAD on
the benchmark machine, most of it cold after the process slept on the network): the
parts here are those whose answer is known before the request, or that look for what
the response does not have. Each gives botocore's own answer (tests/test_request_path.py
compares them with a plain client's); signing, credentials and their refresh, retries,
checksums and error parsing are botocore's, untouched.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from botocore import parsers
from botocore.awsrequest import HeadersDict

__all__ = ["EndpointRules", "S3ResponseParsers", "narrow_handlers"]

# botocore's typing stubs leave out the private methods overridden and called here.
_ResponseParserFactory: Any = parsers.ResponseParserFactory
_RestXMLParser: Any = parsers.RestXMLParser


class EndpointRules:
    """botocore's endpoint rule parameters, built once per operation, bucket and builtins.

    Before every request botocore builds the ~17 parameters of S3's endpoint rules (each
    looked up as a static, dynamic, operation and client context parameter, then as a
    builtin: about 20 us) and then finds the endpoint in an LRU cache keyed by them. The
    parameters depend only on the operation, the request's context parameters that the
    rules read (``Bucket``; botocore itself drops ``Key``, ``Prefix`` and ``CopySource``,
    which no S3 rule reads), the client's context and the builtins, which the
    ``before-endpoint-resolution`` handlers customise per request (a region learnt from
    a redirect, path style for a bucket that is no host label, presigning's global
    endpoint). So the event is still emitted for every request, once, as botocore does,
    and its builtins are part of the key; only the lookups are skipped. An operation
    whose parameters come from a JMESPath over its arguments, or a builtin that is
    computed when read (the account id), is resolved by botocore every time.
    """

    MAX_ENTRIES = 256

    def __init__(self, resolver: Any) -> None:
        self._resolver = resolver
        self._customized_builtins = resolver._get_customized_builtins
        self._provider_params = resolver._get_provider_params
        self._excluded = frozenset(getattr(resolver._provider, "_excluded_params", None) or ())
        # botocore 1.36+ records the endpoint features a request used (its user agent's
        # feature ids) while building the parameters; earlier versions have no such step.
        self._register_features = getattr(resolver, "_register_endpoint_feature_ids", None)
        self._builtins = tuple(
            sorted({d.builtin for d in resolver._param_definitions.values() if d.builtin})
        )
        self._members: dict[str, tuple[str, ...] | None] = {}
        self._cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._held = threading.local()

    @classmethod
    def install(cls, client: Any) -> None:
        """Put the cache between the client's resolver and its parameter building."""
        resolver = getattr(client, "_ruleset_resolver", None)
        needed = ("_get_customized_builtins", "_get_provider_params", "_param_definitions")
        if resolver is None or not all(hasattr(resolver, name) for name in needed):
            return  # another botocore: its own path, uncached
        rules = cls(resolver)
        resolver._get_customized_builtins = rules.customized_builtins
        resolver._get_provider_params = rules.provider_params

    def customized_builtins(self, operation_model: Any, call_args: Any, context: Any) -> Any:
        """The builtins this request's event gave (a miss builds its parameters with them)."""
        held = getattr(self._held, "builtins", None)
        if held is not None:
            return held
        return self._customized_builtins(operation_model, call_args, context)

    def provider_params(self, operation_model: Any, call_args: Any, context: Any) -> Any:
        builtins = self._customized_builtins(operation_model, call_args, context)
        key = self._key(operation_model, call_args, builtins)
        if key is not None:
            params = self._cache.get(key)
            if params is not None:
                register = self._register_features
                if register is not None:
                    for name, value in params.items():  # what botocore's loop records
                        register(name, value)
                return dict(params)
        self._held.builtins = builtins
        try:
            params = self._provider_params(operation_model, call_args, context)
        finally:
            self._held.builtins = None
        if key is not None:
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = dict(params)
        return params

    def _key(self, operation_model: Any, call_args: Any, builtins: Any) -> tuple[Any, ...] | None:
        name = operation_model.name
        if name in self._members:
            members = self._members[name]
        else:
            members = self._members[name] = self._read_members(operation_model)
        if members is None:
            return None
        values = [builtins.get(builtin) for builtin in self._builtins]
        values += [call_args.get(member) for member in members]
        if any(map(callable, values)):
            return None
        key = (name, *values)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def _read_members(self, operation_model: Any) -> tuple[str, ...] | None:
        """The arguments of ``operation_model`` that feed the rules; None: not cacheable."""
        if set(operation_model.operation_context_parameters) - self._excluded:
            return None
        dynamic = self._resolver._get_dynamic_context_params(operation_model)
        return tuple(m for param, m in sorted(dynamic.items()) if param not in self._excluded)


def narrow_handlers(client: Any) -> None:
    """Move botocore handlers registered for every operation onto the ones they act on.

    Four of botocore's default handlers run for every request of every operation and do
    something for a few S3 operations only, decided by the service model and the
    client's config (fixed when the client is built): an idempotency token for
    operations with an idempotent member (``RenameObject``), the checksum mode of
    operations with a validation mode member when responses are validated
    ``when_supported`` (``GetObject``), the API version header of endpoint discovery
    operations (none in S3), and the raw ``Expires`` header of operations whose output
    has an ``Expires`` member (``HeadObject``, ``GetObject``; it walks the output's
    members on every response to find out). Each is registered again on exactly those
    operations, so every request still gets what it got. (Each is idempotent, so a
    botocore that registered one elsewhere would at worst run it twice.)
    """
    from botocore import handlers

    events = client.meta.events
    model = client.meta.service_model
    operations = [model.operation_model(name) for name in model.operation_names]
    validating = getattr(client.meta.config, "response_checksum_validation", None)
    expires = getattr(handlers, "_has_expires_shape", None)
    moves = (
        (
            "before-parameter-build",
            getattr(handlers, "generate_idempotent_uuid", None),
            [op.name for op in operations if op.idempotent_members],
        ),
        (
            "before-parameter-build",
            getattr(handlers, "_handle_request_validation_mode_member", None),
            [
                op.name
                for op in operations
                if validating == "when_supported"
                and op.http_checksum.get("requestValidationModeMember")
            ],
        ),
        (
            "before-call",
            getattr(handlers, "inject_api_version_header_if_needed", None),
            [op.name for op in operations if op.is_endpoint_discovery_operation],
        ),
        (
            "before-parse.s3.*",
            getattr(handlers, "handle_expires_header", None) if expires else None,
            [op.name for op in operations if expires and expires(op.output_shape)],
        ),
    )
    service = model.service_id.hyphenize()
    for registered, handler, names in moves:
        if handler is None:
            continue  # another botocore: left as it is
        try:
            events.unregister(registered, handler)
        except (AttributeError, KeyError, ValueError):  # registered elsewhere: left as it is
            continue
        event = registered.split(".", 1)[0]
        for name in names:
            events.register(f"{event}.{service}.{name}", handler)


class S3ResponseParsers(_ResponseParserFactory):  # type: ignore[misc]
    """botocore's parser factory, giving S3's protocol (rest-xml) :class:`HeaderMembers`."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-xml":
            return HeaderMembers(**self._defaults)
        return super().create_parser(protocol_name)


_Member = tuple[int, str, Any]  # (position in the shape, member name, member shape)
#: A shape's header members by lower-cased header name, its members read from elsewhere
#: than one header (the status code, a header prefix map), and whether all its members
#: are read from the head (an empty body then holds none of them).
_Layout = tuple[dict[str, list[_Member]], list[_Member], bool]
#: Per output shape, its layout (weakly: a shape lives as long as its client's model).
_LAYOUTS: weakref.WeakKeyDictionary[Any, _Layout] = weakref.WeakKeyDictionary()


class HeaderMembers(_RestXMLParser):  # type: ignore[misc]
    """RestXMLParser reading the members a response's headers hold, not each member.

    botocore looks every header member of the output shape up in the response's
    case-insensitive headers: HeadObject's output has about 50, so a HEAD answered with
    a dozen headers costs some 40 missed lookups, each a ``KeyError`` raised and caught
    inside ``Mapping.__contains__``. Here each header of the response is looked up among
    the shape's header members instead; the members found are parsed by botocore's own
    ``_parse_shape`` and set in the shape's order, so the parsed dict is the same, key
    order included. Headers that are not botocore's ``HeadersDict`` (a plain dict is
    case-sensitive) go through botocore's own loop.
    """

    def _parse_non_payload_attrs(
        self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any
    ) -> None:
        headers = response["headers"]
        if type(headers) is not HeadersDict:
            super()._parse_non_payload_attrs(response, shape, member_shapes, final_parsed)
            return
        by_header, others, _ = _layout_of(shape, member_shapes)
        found: list[tuple[int, str, Any, Any]] = []
        for header in headers:
            for index, name, member in by_header.get(header.lower(), ()):
                found.append((index, name, member, headers[header]))
        for index, name, member in others:
            found.append((index, name, member, None))
        if len(found) > 1:
            found.sort(key=_position)
        for _, name, member, value in found:
            location = member.serialization.get("location")
            if location == "header":
                final_parsed[name] = self._parse_shape(member, value)
            elif location == "statusCode":
                final_parsed[name] = self._parse_shape(member, response["status_code"])
            else:  # "headers": a prefix map (user metadata)
                final_parsed[name] = self._parse_header_map(member, headers)

    def _parse_payload(
        self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any
    ) -> None:
        """botocore's, unless the body is empty and no member is read from a body: then
        its walk of every member (HeadObject's ~50, for a HEAD's empty body) adds nothing."""
        if (
            response["body"]
            or "payload" in shape.serialization
            or not _layout_of(shape, member_shapes)[2]
        ):
            super()._parse_payload(response, shape, member_shapes, final_parsed)


def _layout_of(shape: Any, member_shapes: Any) -> _Layout:
    layout = _LAYOUTS.get(shape)
    if layout is None:
        layout = _LAYOUTS[shape] = _layout(shape, member_shapes)
    return layout


def _position(item: tuple[int, str, Any, Any]) -> int:
    return item[0]


def _layout(shape: Any, member_shapes: Any) -> _Layout:
    by_header: dict[str, list[_Member]] = {}
    others: list[_Member] = []
    in_head = not (shape.is_tagged_union or shape.metadata.get("exception", False))
    for index, (name, member) in enumerate(member_shapes.items()):
        location = member.serialization.get("location")
        if location == "header":
            header = member.serialization.get("name", name).lower()
            by_header.setdefault(header, []).append((index, name, member))
        elif location in ("statusCode", "headers"):
            others.append((index, name, member))
        elif not member.serialization.get("eventheader"):
            in_head = False  # read from the body (botocore's KNOWN_LOCATIONS skip the rest)
    return by_header, others, in_head
