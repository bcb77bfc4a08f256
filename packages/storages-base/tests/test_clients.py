"""client_property: built lazily, once, under a lock; dropped on pickling."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any

from storages_base.clients import client_property
from storages_base.memory import MemoryStorage


class Client:
    def __init__(self) -> None:
        self.socket = threading.Lock()  # something that does not pickle


class ClientStorage(MemoryStorage):
    builds = 0

    @client_property
    def client(self) -> Client:
        type(self).builds += 1
        time.sleep(0.05)  # a slow SDK constructor widens any race
        return Client()


def test_a_client_is_built_on_first_use_not_at_construction() -> None:
    ClientStorage.builds = 0
    storage = ClientStorage()
    assert ClientStorage.builds == 0
    first = storage.client
    assert storage.client is first
    assert ClientStorage.builds == 1


def test_sixteen_threads_asking_at_once_get_one_client() -> None:
    ClientStorage.builds = 0
    storage = ClientStorage()
    barrier = threading.Barrier(16)
    seen: list[Any] = []

    def use() -> None:
        barrier.wait()
        seen.append(storage.client)

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ClientStorage.builds == 1
    assert len({id(client) for client in seen}) == 1


def test_a_pickled_storage_drops_its_client_and_builds_a_new_one() -> None:
    storage = ClientStorage(location="media")
    client = storage.client
    copy = pickle.loads(pickle.dumps(storage))
    assert "client" not in copy.__dict__
    assert copy.location == "media"
    assert copy.client is not client
    assert isinstance(copy.client, Client)


def test_reset_forgets_the_client() -> None:
    storage = ClientStorage()
    client = storage.client
    client_property.reset(storage)
    assert storage.client is not client


def test_the_class_attribute_is_the_descriptor() -> None:
    assert isinstance(ClientStorage.client, client_property)
    assert client_property.names(ClientStorage)[0] == "client"  # then BaseStorage's own
