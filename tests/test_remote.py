"""Remote storage: every path the jobs read or write may be a URL. Tested with fsspec's
``memory://`` (one process: the in-process DirectRunner, ``--direct_num_workers=1``) and
``file://`` URLs, bridged into Beam by ``pipelines.fsspec_fs``; no network."""

from __future__ import annotations

import json
import os
import uuid

import fsspec
import pytest

from palmkit.errors import UserError
from palmkit.paths import missing_extra, scheme
from pipelines import corpus, fs
from pipelines.corpus import CorpusConfig
from pipelines.sources import SourceError, load_sources

SOURCES = "components:\n  dialogue:\n    - {format: jsonl, path: \"chat/*.jsonl\", keep: [dump]}\n"
CHAT = "".join(json.dumps({"text": f"A: hi {i}\nB: hello there, how are you?", "dump": "d1"})
               + "\n" for i in range(12)).encode()
ONE_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


@pytest.fixture
def mem():
    """A fresh ``memory://`` folder, removed afterwards (memory:// is process-global)."""
    root = f"memory://palmkit-test-{uuid.uuid4().hex[:8]}"
    yield root
    memory = fsspec.filesystem("memory")
    if memory.exists(root):
        memory.rm(root, recursive=True)


def put(url: str, data: bytes) -> None:
    with fsspec.open(url, "wb") as f:
        f.write(data)


def parquet_files(root: str) -> dict[str, bytes]:
    """Relative path -> bytes of every Parquet file below ``root`` (local or URL)."""
    return {path[len(root) + 1:]: fs.open_file(path).read()
            for path in fs.match_files(fs.join(root, "**.parquet"))}


def test_corpus_on_memory_matches_a_local_run(tmp_path, mem):
    local = tmp_path / "in"
    (local / "chat").mkdir(parents=True)
    (local / "sources.yaml").write_text(SOURCES)
    (local / "chat" / "a.jsonl").write_bytes(CHAT)
    put(f"{mem}/in/sources.yaml", SOURCES.encode())
    put(f"{mem}/in/chat/a.jsonl", CHAT)

    corpus.main(CorpusConfig(sources=str(local / "sources.yaml"), output=str(tmp_path / "out"),
                             num_shards=1), ONE_PROCESS)
    assert corpus.main(CorpusConfig(sources=f"{mem}/in/sources.yaml", output=f"{mem}/out",
                                    num_shards=1), ONE_PROCESS) is None  # remote: no manifest back

    expected = parquet_files(str(tmp_path / "out"))
    assert expected and parquet_files(f"{mem}/out") == expected
    assert fs.read_text(f"{mem}/out/manifest.json")


def test_sources_file_at_a_url_is_read_and_resolved_against_it(mem):
    put(f"{mem}/cfg/sources.yaml", SOURCES.encode())
    put(f"{mem}/cfg/chat/a.jsonl", CHAT)
    [spec] = load_sources(f"{mem}/cfg/sources.yaml")
    assert spec.inputs == (f"{mem}/cfg/chat/a.jsonl",)
    assert spec.source_name(spec.inputs[0]) == "chat/a.jsonl"  # as for a local sources file
    assert spec.keep == ("dump",)


def test_file_url_inputs(tmp_path):
    (tmp_path / "chat").mkdir()
    (tmp_path / "chat" / "a.jsonl").write_bytes(CHAT)
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES.replace("chat/*.jsonl", f"file://{tmp_path}/chat/*.jsonl"))
    [spec] = load_sources(str(sources))
    assert spec.inputs == (f"file://{tmp_path}/chat/a.jsonl",)
    assert fs.open_file(spec.inputs[0]).read() == CHAT


def test_missing_remote_input_is_a_one_line_refusal(mem):
    put(f"{mem}/cfg/sources.yaml", SOURCES.encode())  # chat/*.jsonl matches nothing
    with pytest.raises(SourceError) as e:
        load_sources(f"{mem}/cfg/sources.yaml")
    assert "no file matches" in str(e.value) and "\n" not in str(e.value)


def test_missing_remote_sources_file(mem):
    with pytest.raises(SourceError, match="sources file not found"):
        load_sources(f"{mem}/nothing/sources.yaml")


@pytest.mark.parametrize("url", ["s3://bucket/x/*.jsonl", "hf://datasets/org/x/*.jsonl",
                                 "gs://bucket/x/*.jsonl", "https://example.com/x.jsonl"])
def test_missing_extra_names_the_extra(url):
    problem = missing_extra(url)
    if problem is None:
        pytest.skip(f"the extra for {scheme(url)}:// is installed here")
    with pytest.raises(fs.RemotePathError) as e:
        fs.list_files(url)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{scheme(url)}:// needs the ")
    assert "pip install 'palmkit[" in message
    assert ("[gcp]" in message) == (scheme(url) == "gs")  # hf:// no longer asks for gcp


def test_unknown_scheme_is_a_user_error():
    with pytest.raises(UserError, match="not a filesystem palmkit knows"):
        fs.open_file("nosuchfs://bucket/file")


def test_local_copy_of_a_remote_model(mem):
    put(f"{mem}/models/m.bin", b"model bytes")
    local = fs.local_copy(f"{mem}/models/m.bin")
    assert not fs.is_remote(local) and open(local, "rb").read() == b"model bytes"
    assert fs.local_copy(f"{mem}/models/m.bin") == local  # copied once per process
    assert fs.local_copy("/some/local/path.bin") == "/some/local/path.bin"


def test_write_and_rename_through_beam(mem):
    fs.write_text_atomic(f"{mem}/out/manifest.json", "{}")
    fs.write_text_atomic(f"{mem}/out/manifest.json", '{"a": 1}')
    assert fs.read_text(f"{mem}/out/manifest.json") == '{"a": 1}'
    assert fs.match_files(f"{mem}/out/*") == (f"{mem}/out/manifest.json",)
    assert fs.match_dirs(f"{mem}/*") == (f"{mem}/out",)


def test_unreachable_remote_output_is_a_one_line_refusal(mem, monkeypatch):
    from pipelines import io

    def refuse(self, path, **kwargs):
        raise RuntimeError("401 Unauthorized\nsecond line")  # a client library's own error

    monkeypatch.setattr(type(fsspec.filesystem("memory")), "exists", refuse)
    with pytest.raises(fs.RemotePathError) as e:
        io.prepare_output(f"{mem}/out", overwrite=False)
    assert str(e.value) == f"cannot reach {mem}/out: RuntimeError: 401 Unauthorized"


def test_missing_remote_model_is_file_not_found(mem):
    with pytest.raises(FileNotFoundError, match="not found"):
        fs.local_copy(f"{mem}/models/missing.bin")
