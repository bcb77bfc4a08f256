from django.core.files.base import ContentFile


def test_a_saved_file_reads_back(storage, root):
    name = storage.save("a/b.txt", ContentFile(b"hello"))
    assert name == "a/b.txt"
    assert (root / "a" / "b.txt").read_bytes() == b"hello"
    with storage.open(name) as f:
        assert f.read() == b"hello"
    assert storage.exists(name)
    assert storage.size(name) == 5
    assert storage.listdir("a") == ([], ["b.txt"])
    assert storage.listdir("") == (["a"], [])
    second = storage.save("a/b.txt", ContentFile(b"again"))
    assert second != name
    storage.delete(name)
    assert not storage.exists(name)
