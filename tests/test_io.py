import pytest

from dapo.io import InputError, atomic_path, read_jsonl, write_json, write_jsonl


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == '{\n  "v": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_directory_replaces_whole(tmp_path):
    d = tmp_path / "ckpt"
    with atomic_path(d, is_dir=True) as tmp:
        (tmp / "a").write_text("1")
    with atomic_path(d, is_dir=True) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in d.iterdir()) == ["b"]


def test_read_jsonl_errors_name_the_cause(tmp_path):
    with pytest.raises(InputError, match="missing file"):
        read_jsonl(tmp_path / "x.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match="empty split"):
        read_jsonl(tmp_path / "empty.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: malformed record"):
        read_jsonl(tmp_path / "bad.jsonl")
    write_jsonl(tmp_path / "ok.jsonl", [{"a": 1}, {"b": 2}])
    with pytest.raises(InputError, match=r"ok.jsonl:2: malformed record \(missing key 'a'\)"):
        read_jsonl(tmp_path / "ok.jsonl", required=("a",))
    assert read_jsonl(tmp_path / "ok.jsonl") == [{"a": 1}, {"b": 2}]
