"""What ``storage.open()`` returns: modes, partial reads, seeks, chunks, writes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile

from .fixtures import ContractFixtures


class FileObjectCases(ContractFixtures):
    def test_binary_mode_reads_bytes(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/b.txt", ContentFile(b"content"))
        with storage.open(name, "rb") as file:
            assert file.read() == b"content"

    def test_text_mode_reads_str_with_universal_newlines(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/t.txt", ContentFile("ünï\r\nline two\rthree\n".encode()))
        with storage.open(name, "r") as file:
            assert file.read() == "ünï\nline two\nthree\n"
        assert self.read(storage, name) == "ünï\r\nline two\rthree\n".encode()

    def test_a_file_can_be_read_a_little_at_a_time(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/parts.txt", ContentFile(b"content"))
        with storage.open(name) as file:
            assert file.read(3) == b"con"
            assert file.read() == b"tent"
            assert file.read() == b""

    def test_chunks_of_two_bytes_spell_co_nt_en_t(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/chunks.txt", ContentFile(b"content"))
        with storage.open(name) as file:
            assert b"-".join(file.chunks(chunk_size=2)) == b"co-nt-en-t"

    def test_seek_then_read_returns_the_bytes_from_that_offset(
        self, storage: Any, folder: str
    ) -> None:
        data = bytes(range(256)) * 40
        name = storage.save(f"{folder}/seek.bin", ContentFile(data))
        with storage.open(name) as file:
            file.seek(1000)
            assert file.read(10) == data[1000:1010]
            assert file.tell() == 1010
            file.seek(-5, io.SEEK_END)
            assert file.read() == data[-5:]
            file.seek(0)
            assert file.read(4) == data[:4]

    @pytest.mark.slow
    def test_seeking_into_a_large_file_reads_its_middle_and_end(
        self, storage: Any, folder: str
    ) -> None:
        data = self.payload(self.large_file_size)
        name = storage.save(f"{folder}/large-seek.bin", ContentFile(data))
        middle = len(data) // 2
        with storage.open(name) as file:
            file.seek(middle)
            assert file.read(1000) == data[middle : middle + 1000]
            file.seek(len(data) - 10)
            assert file.read() == data[-10:]
            file.seek(3)
            assert file.read(7) == data[3:10]

    def test_iterating_a_file_yields_its_lines(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/lines.txt", ContentFile(b"one\ntwo\nthree"))
        with storage.open(name) as file:
            assert list(file) == [b"one\n", b"two\n", b"three"]

    def test_a_closed_file_can_be_reopened_and_read_again(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/reopen.txt", ContentFile(b"again"))
        file = storage.open(name)
        assert file.read() == b"again"
        file.close()
        assert file.closed
        file.open()
        assert file.read() == b"again"
        file.close()

    def test_open_w_then_write_then_close_stores_the_text(self, storage: Any, folder: str) -> None:
        file = storage.open(f"{folder}/written.txt", "w")
        file.write("first line ✓\n")
        file.write("second line\n")
        file.close()
        assert self.read(storage, f"{folder}/written.txt") == "first line ✓\nsecond line\n".encode()

    def test_open_wb_stores_bytes_written_in_several_pieces(
        self, storage: Any, folder: str
    ) -> None:
        with storage.open(f"{folder}/pieces.bin", "wb") as file:
            for piece in (b"alpha", b"", b"beta", b"gamma" * 1000):
                file.write(piece)
        assert self.read(storage, f"{folder}/pieces.bin") == b"alphabeta" + b"gamma" * 1000

    @pytest.mark.slow
    def test_writing_a_large_file_through_open_stores_all_of_it(
        self, storage: Any, folder: str
    ) -> None:
        data = self.payload(self.large_file_size)
        with storage.open(f"{folder}/large-written.bin", "wb") as file:
            for start in range(0, len(data), 300_000):
                file.write(data[start : start + 300_000])
        assert storage.size(f"{folder}/large-written.bin") == len(data)
        assert self.read(storage, f"{folder}/large-written.bin") == data

    def test_open_w_replaces_an_existing_file(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/replace.txt", ContentFile(b"old content that is long"))
        with storage.open(name, "wb") as file:
            file.write(b"new")
        assert self.read(storage, name) == b"new"

    def test_open_w_without_writing_creates_an_empty_file(self, storage: Any, folder: str) -> None:
        with storage.open(f"{folder}/nothing.txt", "wb"):
            pass
        assert storage.exists(f"{folder}/nothing.txt")
        assert storage.size(f"{folder}/nothing.txt") == 0

    def test_x_mode_creates_a_new_file(self, storage: Any, folder: str) -> None:
        with storage.open(f"{folder}/exclusive.txt", "xb") as file:
            file.write(b"mine")
        assert self.read(storage, f"{folder}/exclusive.txt") == b"mine"

    def test_x_mode_refuses_an_existing_file_and_keeps_its_content(
        self, storage: Any, folder: str
    ) -> None:
        name = storage.save(f"{folder}/taken.txt", ContentFile(b"original"))
        with pytest.raises(FileExistsError):  # at open, or at close at the latest
            self._write_exclusively(storage, name, b"intruder")
        assert self.read(storage, name) == b"original"

    def test_a_with_block_that_raises_stores_nothing(self, storage: Any, folder: str) -> None:
        name = f"{folder}/abandoned.txt"
        with pytest.raises(RuntimeError, match="half way"):
            self._fail_while_writing(storage, name)
        assert storage.exists(name) is False

    def test_size_of_a_file_being_written_counts_the_bytes_written(
        self, storage: Any, folder: str
    ) -> None:
        with storage.open(f"{folder}/growing.txt", "w") as file:
            file.write("ünï")  # 5 bytes in UTF-8
            assert file.size == 5
            file.write("code")
            assert file.size == 9
        assert storage.size(f"{folder}/growing.txt") == 9

    def test_append_mode_adds_to_the_end_of_a_file(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/log.txt", ContentFile(b"first\n"))
        with storage.open(name, "ab") as file:
            file.write(b"second\n")
        assert self.read(storage, name) == b"first\nsecond\n"

    def test_a_with_block_closes_the_file(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/closing.txt", ContentFile(b"x"))
        with storage.open(name) as file:
            assert not file.closed
        assert file.closed

    @staticmethod
    def _write_exclusively(storage: Any, name: str, data: bytes) -> None:
        with storage.open(name, "xb") as file:
            file.write(data)

    @staticmethod
    def _fail_while_writing(storage: Any, name: str) -> None:
        with storage.open(name, "wb") as file:
            file.write(b"half of it")
            raise RuntimeError("the upload failed half way")
