"""Dropbox-specific behaviour, against the local server, with its requests counted."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import dropbox
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings
from dropbox import files as dbx_files

from storages_base.errors import (
    AlreadyExistsError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TransientError,
)
from storages_dropbox import DropBoxStorage, DropboxStorage
from storages_dropbox.errors import dropbox_errors
from storages_dropbox.files import ContentHasher
from storages_dropbox.testing import DropboxServer, content_hash

from .conftest import server_options

Factory = Callable[..., DropboxStorage]
MiB = 1024 * 1024


def test_content_hash_matches_dropbox_algorithm_on_block_boundaries() -> None:
    data = bytes(range(256)) * (9 * MiB // 256) + b"tail"
    hasher = ContentHasher()
    for start in range(0, len(data), 3 * MiB + 7):  # pieces that straddle the blocks
        hasher.update(data[start : start + 3 * MiB + 7])
    assert hasher.hexdigest() == content_hash(data)
    assert content_hash(b"") == ContentHasher().hexdigest()


# -- configuration --------------------------------------------------------------------


def test_no_credentials_builds_without_network_and_refuses_at_first_use(server: Any) -> None:
    storage = DropboxStorage(**server_options(server))
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_OAUTH2_REFRESH_TOKEN"):
        storage.exists("a.txt")
    assert server.count() == 0


def test_an_incomplete_refresh_triple_is_refused_at_construction() -> None:
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_APP_SECRET"):
        DropboxStorage(app_key="key", oauth2_refresh_token="refresh")


@pytest.mark.parametrize("root", ["media", "media/"])
def test_a_root_path_must_start_with_a_slash(root: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="must start with '/'"):
        DropboxStorage("token", root_path=root)


def test_an_unknown_write_mode_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="write_mode"):
        DropboxStorage("token", write_mode="replace")


def test_settings_are_read_when_the_storage_is_built(server: Any) -> None:
    token = server.issue_token()
    with override_settings(
        DROPBOX_OAUTH2_TOKEN=token, DROPBOX_ROOT_PATH="/site", DROPBOX_WRITE_MODE="overwrite"
    ):
        storage = DropboxStorage(**server_options(server))
    assert storage.root_path == "/site"
    assert storage.file_overwrite is True
    assert storage.oauth2_access_token == token


def test_a_timeout_of_none_waits_forever(make_storage: Factory) -> None:
    assert make_storage(timeout=None).client._timeout is None
    assert make_storage().client._timeout == 100


def test_positional_token_alias_repr_pickle_and_deconstruct(make_storage: Factory) -> None:
    storage = DropBoxStorage("sl.secret-token-value", root_path="/x")
    assert DropBoxStorage is DropboxStorage
    assert "sl.secret-token-value" not in repr(storage)
    path, args, kwargs = storage.deconstruct()
    assert path == "storages_dropbox.DropboxStorage"
    assert "sl.secret-token-value" not in repr((args, kwargs))
    assert kwargs == {"root_path": "/x"}
    working = make_storage()
    working.save("pickled.txt", ContentFile(b"p"))
    copy = pickle.loads(pickle.dumps(working))
    assert copy.open("pickled.txt").read() == b"p"
    copy.delete("pickled.txt")


# -- names and the root ---------------------------------------------------------------


def test_the_root_path_is_applied_exactly_once(server: Any, make_storage: Factory) -> None:
    storage = make_storage(root_path="/Apps/site")
    name = storage.save("docs/once.txt", ContentFile(b"1"))
    assert name == "docs/once.txt"
    assert "/apps/site/docs/once.txt" in server.tree
    assert not any(key.startswith("/apps/site/apps") for key in server.tree)
    assert storage.listdir("docs") == ([], ["once.txt"])
    storage.delete(name)


@pytest.mark.parametrize("root", ["/", "/jail"])
def test_names_outside_the_root_are_refused(make_storage: Factory, root: str) -> None:
    storage = make_storage(root_path=root)
    for name in ("../escape.txt", "a/../../escape.txt"):
        with pytest.raises(SuspiciousFileOperation):
            storage.save(name, ContentFile(b"x"))


# -- operations and their calls --------------------------------------------------------


def test_a_small_save_is_one_upload_call(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    server.reset_counts()
    storage.save("calls/small.txt", ContentFile(b"hello"))
    assert dict(server.calls) == {"files/upload": 1}
    server.reset_counts()
    assert storage.size("calls/small.txt") == 5
    assert storage.exists("calls/small.txt")
    assert storage.get_modified_time("calls/small.txt").tzinfo is not None
    assert dict(server.calls) == {"files/get_metadata": 3}
    server.reset_counts()
    with storage.open("calls/small.txt") as file:
        assert file.read() == b"hello"
    assert dict(server.calls) == {"files/download": 1}
    storage.delete("calls/small.txt")


def test_add_mode_picks_the_next_name_in_one_refused_call(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage()  # write_mode add: file_overwrite off
    first = storage.save("clash/a.txt", ContentFile(b"1"))
    server.reset_counts()
    second = storage.save("clash/a.txt", ContentFile(b"2"))
    assert first == "clash/a.txt"
    assert second != first
    assert dict(server.calls) == {"files/upload": 2}  # refused (conflict), then stored
    assert storage.open(first).read() == b"1"
    assert storage.open(second).read() == b"2"


def test_overwrite_mode_replaces(make_storage: Factory) -> None:
    storage = make_storage(write_mode="overwrite")
    storage.save("ow/a.txt", ContentFile(b"old"))
    assert storage.save("ow/a.txt", ContentFile(b"new")) == "ow/a.txt"
    assert storage.open("ow/a.txt").read() == b"new"


def test_update_mode_replaces_the_revision_it_read(server: Any, make_storage: Factory) -> None:
    storage = make_storage(write_mode="update")
    storage.save("up/a.txt", ContentFile(b"v1"))
    server.reset_counts()
    storage.save("up/a.txt", ContentFile(b"v2"))
    assert dict(server.calls) == {"files/get_metadata": 1, "files/upload": 1}
    assert storage.open("up/a.txt").read() == b"v2"
    # A change between the read of the revision and the upload is refused.
    original = storage._mode

    def racing(key: str, exclusive: bool) -> Any:
        mode = original(key, exclusive)
        make_storage(write_mode="overwrite").save("up/a.txt", ContentFile(b"theirs"))
        return mode

    storage._mode = racing  # type: ignore[method-assign]
    with pytest.raises(PreconditionFailedError):
        storage.save("up/a.txt", ContentFile(b"mine"))
    assert storage.open("up/a.txt").read() == b"theirs"


def test_listdir_follows_the_cursor_through_every_page(server: Any, make_storage: Factory) -> None:
    storage = make_storage(write_mode="overwrite")
    for i in range(10):
        storage.save(f"paged/f{i:02}.txt", ContentFile(b"x"))
    storage.save("paged/sub/inner.txt", ContentFile(b"x"))
    server.reset_counts()
    folders, files = storage.listdir("paged")
    assert folders == ["sub"]
    assert files == [f"f{i:02}.txt" for i in range(10)]
    # 11 entries, 3 a page: list_folder then three continues.
    assert dict(server.calls) == {"files/list_folder": 1, "files/list_folder/continue": 3}
    assert storage.listdir("no-such-folder") == ([], [])


def test_delete_of_a_missing_file_is_quiet(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    server.reset_counts()
    storage.delete("never/there.txt")
    assert dict(server.calls) == {"files/delete_v2": 1}


def test_a_read_streams_and_seeks_by_range(server: Any, make_storage: Factory) -> None:
    storage = make_storage(write_mode="overwrite")
    data = bytes(range(256)) * 4096  # 1 MiB
    storage.save("ranged/data.bin", ContentFile(data))
    server.reset_counts()
    with storage.open("ranged/data.bin") as file:
        file.seek(1000)
        assert file.read(10) == data[1000:1010]
        file.seek(len(data) - 5)
        assert file.read() == data[-5:]
    assert server.calls["files/download"] == 2


def test_a_download_dropped_mid_body_resumes_from_where_it_broke(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage(write_mode="overwrite")
    data = bytes(range(256)) * 8192  # 2 MiB
    storage.save("dropped/data.bin", ContentFile(data))
    server.fail("files/download", 0)
    assert storage.open("dropped/data.bin").read() == data
    assert server.calls["files/download"] == 2


# -- upload sessions --------------------------------------------------------------------


def test_a_large_save_is_an_upload_session_in_4_mib_aligned_parts(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage(write_mode="overwrite")
    data = bytes(range(256)) * (17 * MiB // 256)  # 17 MiB: parts of 8, 8, 1
    server.reset_counts()
    storage.save("session/big.bin", ContentFile(data))
    assert dict(server.calls) == {
        "files/upload_session/start": 1,
        "files/upload_session/append_v2": 2,
        "files/upload_session/finish": 1,
    }
    assert server.tree["/session/big.bin"].hash == content_hash(data)
    assert storage.open("session/big.bin").read() == data


def test_a_failed_session_commits_nothing(server: Any, make_storage: Factory) -> None:
    storage = make_storage(write_mode="overwrite")
    storage.save("failed/big.bin", ContentFile(b"old"))
    server.fail("files/upload_session/finish", 500)
    with pytest.raises(TransientError):
        storage.save("failed/big.bin", ContentFile(b"n" * (9 * MiB)))
    assert server.calls["files/upload_session/finish"] == 1  # a commit is not resent
    assert storage.open("failed/big.bin").read() == b"old"


def test_a_5xx_on_an_idempotent_call_is_retried(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    server.fail("files/get_metadata", 503)
    assert storage.exists("retried.txt") is False
    assert server.calls["files/get_metadata"] == 2


def test_an_append_whose_answer_was_lost_is_resent_and_recognised(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage(write_mode="overwrite")
    data = bytes(range(256)) * (17 * MiB // 256)
    server.fail("files/upload_session/append_v2", 503, after=True)  # stored, answer lost
    storage.save("lost/big.bin", ContentFile(data))
    # The SDK resends it (idempotent); the server says incorrect_offset at the end of it.
    assert server.calls["files/upload_session/append_v2"] == 3
    assert server.tree["/lost/big.bin"].hash == content_hash(data)


def test_a_5xx_on_a_single_upload_is_not_resent(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    server.fail("files/upload", 500)
    with pytest.raises(TransientError):
        storage.save("once/a.txt", ContentFile(b"a"))
    assert server.calls["files/upload"] == 1


def test_bytes_stored_wrong_raise_and_are_removed(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    server.corrupt_next = True
    with pytest.raises(IntegrityError):
        storage.save("rot/a.txt", ContentFile(b"precious"))
    assert not storage.exists("rot/a.txt")


def test_the_server_refuses_a_body_that_does_not_match_its_hash(make_storage: Factory) -> None:
    storage = make_storage()
    with pytest.raises(IntegrityError), dropbox_errors("save", "x"):
        storage.client.files_upload(b"abc", "/hash.txt", content_hash=content_hash(b"abd"))


# -- tokens and limits ------------------------------------------------------------------


def _refreshing(server: DropboxServer, make_storage: Factory) -> DropboxStorage:
    refresh = server.register_app("app-key", "app-secret")
    return make_storage(app_key="app-key", app_secret="app-secret", oauth2_refresh_token=refresh)


def test_the_refresh_token_triple_gets_an_access_token(server: Any, make_storage: Factory) -> None:
    storage = _refreshing(server, make_storage)
    storage.save("refresh/a.txt", ContentFile(b"a"))
    storage.exists("refresh/a.txt")
    assert server.calls["oauth2/token"] == 1


def test_threads_starting_together_share_one_refresh(server: Any, make_storage: Factory) -> None:
    from concurrent.futures import ThreadPoolExecutor

    storage = _refreshing(server, make_storage)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: storage.exists(f"refresh/{i}.txt"), range(16)))
    assert server.calls["oauth2/token"] == 1


def test_an_expired_token_mid_session_is_refreshed_once_and_the_part_resent(
    server: Any, make_storage: Factory
) -> None:
    storage = _refreshing(server, make_storage)
    storage.exists("warm-up.txt")
    server.reset_counts()
    server.fail("files/upload_session/append_v2", 401)
    data = b"r" * (17 * MiB)
    storage.save("refresh/big.bin", ContentFile(data))
    assert server.calls["oauth2/token"] == 1
    assert server.calls["files/upload_session/append_v2"] == 3  # one refused, resent
    assert storage.size("refresh/big.bin") == len(data)


def test_an_expired_token_without_refresh_settings_says_what_to_set(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage(oauth2_access_token=server.issue_token(life=-1))
    with pytest.raises(PermissionDeniedError, match="DROPBOX_OAUTH2_REFRESH_TOKEN") as caught:
        storage.exists("a.txt")
    assert storage.oauth2_access_token not in str(caught.value)


def test_a_missing_scope_is_named(server: Any, make_storage: Factory) -> None:
    token = server.issue_token(scopes={"files.metadata.read", "files.content.read"})
    storage = make_storage(oauth2_access_token=token)
    with pytest.raises(PermissionDeniedError, match=r"files\.content\.write"):
        storage.save("scoped.txt", ContentFile(b"x"))


def test_rate_limits_are_retried_after_retry_after_then_given_up(
    server: Any, make_storage: Factory
) -> None:
    storage = make_storage()
    server.fail("files/get_metadata", 429, retry_after=0)
    assert storage.exists("limited.txt") is False
    assert server.calls["files/get_metadata"] == 2
    server.fail("files/get_metadata", 429, retry_after=0, times=10)
    with pytest.raises(TransientError):
        storage.exists("limited.txt")
    assert server.calls["files/get_metadata"] == 2 + 3  # max_retries=2: three attempts


# -- links ------------------------------------------------------------------------------


def _fetch(server: DropboxServer, url: str, **kwargs: Any) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.request(kwargs.pop("method", "GET"), url, verify=server.ca_path, **kwargs)


def test_a_temporary_link_is_reused_within_the_window(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    storage.save("links/a.jpg", ContentFile(b"img"))
    server.reset_counts()
    urls = {storage.url("links/a.jpg") for _ in range(50)}
    assert len(urls) == 1
    assert server.calls["files/get_temporary_link"] == 1
    assert _fetch(server, urls.pop()).content == b"img"
    storage.url("links/a.jpg", expire=60)
    assert server.calls["files/get_temporary_link"] == 1


def test_without_a_window_every_url_asks_dropbox(server: Any, make_storage: Factory) -> None:
    storage = make_storage(url_reuse_window=0)
    storage.save("links/b.jpg", ContentFile(b"img"))
    server.reset_counts()
    storage.url("links/b.jpg")
    storage.url("links/b.jpg")
    assert server.calls["files/get_temporary_link"] == 2


def test_a_link_to_a_missing_file_raises(make_storage: Factory) -> None:
    with pytest.raises(NotFoundError):
        make_storage().url("links/missing.jpg")


def test_a_link_expires_after_four_hours(server: Any, make_storage: Factory) -> None:
    storage = make_storage(url_reuse_window=0)
    storage.save("links/c.jpg", ContentFile(b"img"))
    url = storage.url("links/c.jpg")
    server.clock_offset = 4 * 3600 + 1
    assert _fetch(server, url).status_code == 410


def test_a_presigned_upload_is_a_one_time_link(server: Any, make_storage: Factory) -> None:
    storage = make_storage()
    storage.save("direct/a.txt", ContentFile(b"taken"))
    upload = storage.presigned_upload("direct/a.txt", max_size=1000, content_type="text/plain")
    assert upload.name != "direct/a.txt"  # add mode: a free name is chosen
    answer = upload.as_dict()
    assert set(answer) >= {"url", "fields", "name", "expires", "max_size"}
    headers = {"Content-Type": "application/octet-stream"}
    assert _fetch(server, upload.url, method="POST", data=b"direct!", headers=headers).ok
    assert storage.open(upload.name).read() == b"direct!"
    assert (
        _fetch(server, upload.url, method="POST", data=b"again", headers=headers).status_code == 410
    )


def test_write_modes_map_onto_the_sdk(make_storage: Factory) -> None:
    storage = make_storage(write_mode="update")
    assert storage._mode("nothing-here.txt", exclusive=False) == dbx_files.WriteMode.add
    assert storage._mode("x", exclusive=True) == dbx_files.WriteMode.add
    assert make_storage(write_mode="overwrite")._mode("x", False) == dbx_files.WriteMode.overwrite
    assert isinstance(storage.client, dropbox.Dropbox)


def test_concurrent_add_saves_of_one_name_never_replace_each_other(make_storage: Factory) -> None:
    from concurrent.futures import ThreadPoolExecutor

    storage = make_storage()
    with ThreadPoolExecutor(8) as pool:
        names = list(
            pool.map(lambda i: storage.save("race/r.txt", ContentFile(b"%d" % i)), range(8))
        )
    assert len(set(names)) == 8
    assert sorted(storage.open(n).read() for n in names) == sorted(b"%d" % i for i in range(8))
    with pytest.raises(AlreadyExistsError):
        storage._store(storage._key("race/r.txt"), ContentFile(b"z"), exclusive=True)


def test_a_class_location_starting_with_a_slash_is_the_old_root_alias(
    server: Any, make_storage: Factory
) -> None:
    class Legacy(DropboxStorage):
        location = "/legacy"

    with pytest.warns(DeprecationWarning, match="root_path"):
        storage = Legacy(server.issue_token(), **server_options(server))
    assert storage.root_path == "/legacy"
    assert storage.location == ""
    storage.save("a.txt", ContentFile(b"a"))
    assert "/legacy/a.txt" in server.tree
